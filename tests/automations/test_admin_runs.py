"""The run list and the "Run an action" page, as an editor and as an auditor."""

from __future__ import annotations

import pytest
from django.urls import reverse

from automations.models import ActionRun, RunStatus, StartedBy
from tests.automations.runs_helpers import sandbox_connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_network_allowed"),
]

PAGE = reverse("admin:automations_actionrun_run_action")
LIST = reverse("admin:automations_actionrun_changelist")


@pytest.fixture
def shop(sandbox_factory):
    server = sandbox_factory(seed={"customers": 0, "products": 0, "orders": 0})
    server.store.product_save({"sku": "a/b", "name": "Tee", "price": 20})
    return server


def test_the_page_shows_the_action_inputs_with_labels_help_and_required_marks(editor_client, shop):
    connection = sandbox_connection(shop)
    page = editor_client.get(PAGE, {"connection": connection.pk, "action": "create_product"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="required">SKU *</label>' in html
    assert "Weight</label>" in html and "Weight *" not in html
    assert "store&#x27;s Default attribute set" in html
    assert "This changes the store." in html


def test_running_shows_magentos_answer_and_records_the_run(editor_client, editor, shop):
    connection = sandbox_connection(shop)
    answer = editor_client.post(
        PAGE,
        {"connection": connection.pk, "action": "get_product_by_sku", "sku": "a/b", "run": "1"},
    )
    html = answer.content.decode()
    run = ActionRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED
    assert (run.started_by, run.user) == (StartedBy.USER, editor)
    assert 'data-status="succeeded"' in html
    assert "&quot;sku&quot;: &quot;a/b&quot;" in html
    listing = editor_client.get(LIST).content.decode()
    assert "Run an action" in listing and "a/b" in listing


def test_bad_inputs_come_back_on_the_form_without_a_run(editor_client, shop):
    connection = sandbox_connection(shop)
    answer = editor_client.post(
        PAGE,
        {
            "connection": connection.pk,
            "action": "create_product",
            "sku": "x",
            "name": "X",
            "price": "cheap",
            "run": "1",
        },
    )
    assert "Expected a number" in answer.content.decode()
    assert ActionRun.objects.count() == 0


def test_a_failure_at_the_store_is_shown_in_words(editor_client, shop):
    connection = sandbox_connection(shop)
    answer = editor_client.post(
        PAGE,
        {"connection": connection.pk, "action": "get_product_by_sku", "sku": "nope", "run": "1"},
    )
    html = answer.content.decode()
    assert 'data-status="failed"' in html
    assert "The product that was requested doesn" in html


def test_auditors_see_runs_but_cannot_run_or_change_them(auditor_client, shop):
    connection = sandbox_connection(shop)
    run = ActionRun.objects.create(action_id="get_product_by_sku", connection=connection)
    assert auditor_client.get(PAGE).status_code == 403
    listing = auditor_client.get(LIST)
    assert listing.status_code == 200
    assert "Run an action" not in listing.content.decode()
    detail = auditor_client.get(reverse("admin:automations_actionrun_change", args=[run.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
