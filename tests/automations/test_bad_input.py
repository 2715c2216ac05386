"""Bad input in every field of the automation form and of the import file: a clear message
naming the field, never a 500, and nothing saved half-way."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client

from automations.models import Automation, AutomationStep, TriggerSubscription
from tests.automations.test_automation_form import ADD_URL, form_data
from tests.automations.test_export_import import SHIP

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_connection(make_connection):
    """A connection named as the file says; no store is asked anything here."""
    return make_connection(name="Sandbox", store_domain="shop.example.com")


BAD_VALUES = {
    "empty": "",
    "too_long": "x" * 10_001,
    "wrong_type": "[1, 2]",
    "unicode": "Ünïcødé ✓ 日本語 🚚",
    "control": "tab\there\x07bell",
    "nul_char": "nul\x00l",
    "html": "<script>alert('owned')</script>",
    "sql": "'; DROP TABLE automations_automation; --",
    "template": "{{ 7*7 }}",
    "template_tag": "{% debug %}",
    "path_traversal": "../../../../etc/passwd",
    "crlf": "first\r\nSet-Cookie: owned=1",
}

# Form field -> (the words its message starts with, the bad values it must refuse).
FORM_FIELDS = {
    "name": ("Name", {"empty", "too_long", "control", "nul_char", "crlf"}),
    "description": ("Description", {"too_long", "control", "nul_char"}),
    "connection": (
        ("Store", "Trigger"),
        {"empty", "too_long", "wrong_type", "unicode", "sql", "template"},
    ),
    "trigger_id": ("Trigger", {"empty", "too_long", "wrong_type", "unicode", "html", "sql"}),
    "start": ("Start", {"empty", "too_long", "wrong_type", "unicode", "html", "sql", "crlf"}),
    "poll_interval_minutes": (
        ("Trigger", "Check every"),
        {"too_long", "wrong_type", "unicode", "html", "sql", "template", "crlf"},
    ),
    "opt__order_created__status": ("Trigger, Order status", {"too_long", "control", "crlf"}),
    "opt__order_created__store_id": (
        "Trigger, Store id",
        {"too_long", "unicode", "html", "sql", "template", "crlf"},
    ),
    "step0-action": ("Step", {"empty", "too_long", "wrong_type", "unicode", "html", "sql"}),
    "step0-connection": ("Step 1", {"empty", "too_long", "wrong_type", "unicode", "sql"}),
    "step0-get_product_by_sku__sku": (
        "Step 1 (Find a product by SKU), SKU",
        {"empty", "too_long", "control", "nul_char", "template", "crlf"},
    ),
    "step1-create_shipment__order_increment_id": (
        "Step 2 (Ship an order), Order number",
        {"too_long", "control", "nul_char", "template", "crlf"},
    ),
    "step1-create_shipment__items": (
        "Step 2 (Ship an order), Items to ship",
        {"too_long", "unicode", "html", "sql", "template", "path_traversal", "crlf"},
    ),
    "step1-create_shipment__notify": (
        "Step 2 (Ship an order), E-mail the customer",
        {"too_long", "wrong_type", "unicode", "html", "sql", "template", "crlf"},
    ),
}


def _errors(page: str) -> list[str]:
    block = re.search(r'<div class="errornote" id="automation-errors">(.*?)</div>', page, re.S)
    if not block:
        return []
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


@pytest.mark.parametrize("kind", BAD_VALUES)
@pytest.mark.parametrize("field", FORM_FIELDS)
def test_the_form_refuses_bad_input_by_name(editor, shop_connection, field, kind):
    client = Client(raise_request_exception=True)
    client.force_login(editor)
    value = BAD_VALUES[kind]
    data = form_data(shop_connection, **{field: value})
    if field == "step0-action" and kind == "empty":
        data["step1-action"] = ""
    if field == "start" and kind != "empty":
        data["start_date"] = ""
    response = client.post(ADD_URL, data)
    words, refused = FORM_FIELDS[field]
    page = response.content.decode()
    assert response.status_code in (200, 302)
    if kind in refused:
        assert response.status_code == 200, f"{field}={kind!r} was accepted"
    if response.status_code == 200:
        errors = _errors(page)
        assert errors, f"{field}={kind!r}: no message"
        assert any(message.startswith(words) for message in errors), errors
        assert not Automation.objects.exists()
        assert not TriggerSubscription.objects.exists()
        assert not AutomationStep.objects.exists()
    else:
        automation = Automation.objects.get()
        page = client.get(response["Location"]).content.decode()
        assert "<script>alert(" not in page  # shown as text, never as markup
        assert automation.steps.count() == 2


FILE_FIELDS = {
    "name": ("name", ("empty", "too_long", "control", "nul_char", "crlf", 7, None, [])),
    "description": ("description", ("too_long", "control", "nul_char", 7, [])),
    "enabled": ("enabled", ("empty", "unicode", "html", 1, None, [])),
    "trigger.connection": ("trigger.connection", ("empty", "unicode", "sql", 7, None)),
    "trigger.type": ("trigger.type", ("empty", "too_long", "html", "sql", 7, None, [])),
    "trigger.poll_interval_minutes": (
        "trigger.poll_interval_minutes",
        ("empty", "wrong_type", "sql", 0, 61, 5.5, None, True),
    ),
    "trigger.options": ("trigger.options", ("empty", "html", 7, [])),
    "trigger.options.start": ("trigger.options.start", ("empty", "html", "sql", 7, None)),
    "trigger.options.status": ("trigger.options.status", ("too_long", "control", "crlf", 7)),
    "steps": ("steps", ("empty", "html", 7, None)),
    "steps.0.action": ("steps[0].action", ("empty", "html", "sql", 7, None)),
    "steps.0.connection": ("steps[0]", ("empty", "unicode", "sql", 7)),
    "steps.0.inputs": ("steps[0].inputs", ("html", 7, [])),
    "steps.0.inputs.sku": (
        "steps[0].inputs.sku",
        ("empty", "too_long", "control", "nul_char", "template", "crlf", [1], {"a": 1}),
    ),
    "steps.1.inputs.order_id": (
        "steps[1].inputs.order_id",
        ("too_long", "wrong_type", "unicode", "html", "sql", "template", "crlf", 4.5, [1]),
    ),
}
FILE_EXTRA_VALUES = [7, 0, 61, 5.5, None, True, 1, [], [1], {"a": 1}]


def _set(data: dict, path: str, value):
    parts = path.split(".")
    target = data
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    target[int(last) if last.isdigit() else last] = value


@pytest.mark.parametrize(
    "value", [*BAD_VALUES, *FILE_EXTRA_VALUES], ids=lambda v: v if isinstance(v, str) else repr(v)
)
@pytest.mark.parametrize("field", FILE_FIELDS)
def test_the_import_refuses_bad_input_by_name(tmp_path, shop_connection, field, value):
    entry = json.loads(json.dumps(SHIP))
    given = BAD_VALUES.get(value, value) if isinstance(value, str) else value
    _set(entry, field, given)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"automations": [entry]}), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_automations", str(path), stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    where, refused = FILE_FIELDS[field]
    key = value if isinstance(value, str) else json.dumps(value)
    refused_keys = {v if isinstance(v, str) else json.dumps(v) for v in refused}
    if key in refused_keys:
        assert status in (1, 2), f"{field}={value!r} was accepted: {out.getvalue()}"
    if status:
        assert where in err.getvalue(), err.getvalue()
        assert "Automation " in err.getvalue()
        assert not Automation.objects.exists() and not AutomationStep.objects.exists()
    else:
        assert Automation.objects.count() == 1
