"""Fixtures shared by the whole suite: a strict Magento mock, staff users in each role, a browser.

Helpers that are not fixtures are in tests/helpers.py.
"""

import os
import shutil

import pytest
import responses
from django.contrib.auth.models import Group

from automations.roles import AUDITORS, EDITORS
from tests.helpers import PASSWORD

# The sandbox store fixtures (`sandbox_store`, `sandbox_factory`) and the engine fixtures
# (`portal`, `postgres_url`, `redis_url`) for every test folder.
pytest_plugins = ["tests.magento.sandbox.fixtures", "tests.engines.fixtures"]


@pytest.fixture
def store_mock():
    """A strict `responses` mock of the store: every registered answer must be asked for, and a
    request with no registered answer fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def make_staff(django_user_model):
    """Create an active staff user, optionally in one of the portal's roles."""

    def make(username: str, *, role: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        user = django_user_model.objects.create_user(
            username=username, password=PASSWORD, email=f"{username}@example.com", **extra
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def editor(make_staff):
    return make_staff("eddie-editor", role=EDITORS)


@pytest.fixture
def auditor(make_staff):
    return make_staff("audrey-auditor", role=AUDITORS)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (Playwright's own browser download is not used)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: install Debian's chromium package (.ci/run does).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def admin_login(page, live_server):
    """Log a staff user in through the real login form; returns a function taking the user."""

    def login(user):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        return page

    return login
