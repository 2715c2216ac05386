"""Two worker processes share one queue, on SQLite (the database as the queue) and on PostgreSQL
with Redis; the web server runs beside them on the same database."""

import json

import pytest
import requests

from tests.engines.fixtures import engine_url
from tests.engines.portal import PortalError
from tests.helpers import PASSWORD

TASK = "tests.engines.tasks.meet_another_worker"


def log_in(web_url: str, username: str) -> requests.Session:
    """A session logged in through the portal's real login form."""
    session = requests.Session()
    login = f"{web_url}/admin/login/"
    session.get(login, timeout=10).raise_for_status()
    answer = session.post(
        login,
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": login},
        timeout=10,
    )
    assert answer.url == f"{web_url}/admin/", answer.text
    return session


def test_two_workers_run_the_queued_tasks_once_each_and_the_web_server_shows_them(portal, tmp_path):
    portal.migrate()
    portal.manage(
        "ensure_superuser",
        DJANGO_SUPERUSER_USERNAME="owner",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    # One worker process each: a worker busy with a task leaves the rest to the other one.
    portal.start_worker("worker-1", Q_WORKERS="1")
    portal.start_worker("worker-2", Q_WORKERS="1")
    meeting = tmp_path / "meeting"
    meeting.mkdir()

    printed = portal.shell(
        "from tests.engines.tasks import queue_and_collect; "
        f"queue_and_collect({TASK!r}, {str(meeting)!r}, count=8)"
    )

    outcome = json.loads(printed.strip().splitlines()[-1])
    assert len(outcome["ended"]) == 8, outcome
    assert sorted(task["id"] for task in outcome["ended"]) == sorted(outcome["queued"])
    assert all(task["success"] for task in outcome["ended"]), outcome
    assert {task["result"] for task in outcome["ended"]} == {"worker-1", "worker-2"}

    web_url = portal.start_web()
    session = log_in(web_url, "owner")
    page = session.get(f"{web_url}/admin/django_q/success/", timeout=10)
    assert page.status_code == 200
    assert "8 Successful tasks" in page.text


def test_a_failing_command_is_reported_with_its_output(portal):
    with pytest.raises(PortalError, match=r"no such table|does not exist"):
        portal.shell("from django.contrib.auth.models import User; User.objects.count()")


def test_a_worker_that_cannot_start_fails_the_test_with_its_log(portal):
    with pytest.raises(PortalError, match="worker exited with"):
        portal.start_worker(Q_WORKERS="not a number")


@pytest.mark.parametrize(
    ("environ", "outcome"),
    [
        ({"PORTAL_TEST_REDIS_URL": "redis://127.0.0.1:6379/3"}, "redis://127.0.0.1:6379/3"),
        ({}, pytest.skip.Exception),
        ({"CI": "false"}, pytest.skip.Exception),
        ({"CI": "true"}, pytest.fail.Exception),
        ({"CI": "true", "PORTAL_TEST_REDIS_URL": "  "}, pytest.fail.Exception),
    ],
)
def test_without_its_server_an_engine_test_is_skipped_locally_and_fails_in_ci(environ, outcome):
    if isinstance(outcome, str):
        assert engine_url("PORTAL_TEST_REDIS_URL", environ) == outcome
    else:
        with pytest.raises(outcome, match="PORTAL_TEST_REDIS_URL is not set"):
            engine_url("PORTAL_TEST_REDIS_URL", environ)
