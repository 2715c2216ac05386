"""export_automations and import_automations: the issue's format, round trip, idempotence by
name, all or nothing, connections by name, no secrets, exit codes and streams."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from automations.models import Automation, AutomationStep, TriggerSubscription
from automations.portable import automations_import

pytestmark = pytest.mark.django_db

SHIP = {
    "name": "Ship new orders",
    "enabled": True,
    "trigger": {
        "connection": "Sandbox",
        "type": "order_created",
        "poll_interval_minutes": 5,
        "options": {"start": "now"},
    },
    "steps": [
        {
            "action": "get_product_by_sku",
            "connection": "Sandbox",
            "inputs": {"sku": "{{ trigger.items.0.sku }}"},
        },
        {
            "action": "create_shipment",
            "connection": "Sandbox",
            "inputs": {"order_increment_id": "{{ trigger.increment_id }}", "notify": True},
        },
    ],
}


def run(command, *args, stdin=None):
    """Run a command; (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, out.getvalue(), err.getvalue()


def write(tmp_path, data, name="automations.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_import_creates_in_the_issue_format_and_export_prints_it_back(tmp_path, shop_connection):
    status, out, err = run("import_automations", write(tmp_path, {"automations": [SHIP]}))
    assert (status, err) == (0, "")
    assert "created: Ship new orders" in out
    automation = Automation.objects.get()
    assert automation.trigger.connection == shop_connection
    assert [s.action_id for s in automation.steps.order_by("position")] == [
        "get_product_by_sku",
        "create_shipment",
    ]
    status, out, err = run("export_automations")
    assert status == 0 and err == ""
    exported = json.loads(out)
    assert exported == {"automations": [SHIP]}
    # Connections by name only: no address, no key.
    assert shop_connection.store_domain not in out
    assert shop_connection.access_token not in out


def test_a_second_import_changes_nothing(tmp_path, shop_connection):
    path = write(tmp_path, {"automations": [SHIP]})
    run("import_automations", path)
    automation = Automation.objects.get()
    stamp, subscription = automation.updated_at, automation.trigger.pk
    TriggerSubscription.objects.filter(pk=subscription).update(cursor_entity_id=7)
    status, out, _ = run("import_automations", path)
    assert status == 0 and "unchanged: Ship new orders" in out
    automation.refresh_from_db()
    assert automation.updated_at == stamp
    assert TriggerSubscription.objects.get(pk=subscription).cursor_entity_id == 7


def test_import_updates_by_name_whatever_the_case(tmp_path, shop_connection):
    run("import_automations", write(tmp_path, {"automations": [SHIP]}))
    changed = json.loads(json.dumps(SHIP))
    changed["name"] = "SHIP NEW ORDERS"
    changed["enabled"] = False
    changed["trigger"]["poll_interval_minutes"] = 30
    changed["steps"] = changed["steps"][1:]
    status, out, err = run("import_automations", write(tmp_path, {"automations": [changed]}))
    assert (status, err) == (0, ""), err
    assert "updated: SHIP NEW ORDERS" in out
    automation = Automation.objects.get()
    assert automation.name == "SHIP NEW ORDERS" and not automation.enabled
    assert automation.trigger.poll_interval_minutes == 30
    assert list(automation.steps.values_list("action_id", flat=True)) == ["create_shipment"]


def test_one_bad_automation_changes_nothing_and_is_named(tmp_path, shop_connection):
    run("import_automations", write(tmp_path, {"automations": [SHIP]}))
    good = {**SHIP, "name": "Another", "enabled": False}
    bad = json.loads(json.dumps(SHIP))
    bad["name"] = "Broken one"
    bad["steps"][1]["inputs"]["order_id"] = "forty-two"
    changed_first = {**SHIP, "enabled": False}
    data = {"automations": [changed_first, good, bad]}
    status, out, err = run("import_automations", write(tmp_path, data))
    assert status == 2 and out == ""
    assert "Nothing was imported" in err
    assert "Automation 'Broken one' (automations[2]), steps[1].inputs.order_id:" in err
    assert "Expected a whole number" in err
    assert Automation.objects.count() == 1 and Automation.objects.get().enabled


def test_a_missing_connection_is_named_and_exits_1(tmp_path, shop_connection):
    other = json.loads(json.dumps(SHIP))
    other["steps"][1]["connection"] = "Store B"
    status, out, err = run("import_automations", write(tmp_path, {"automations": [other]}))
    assert status == 1 and out == ""
    assert "steps[1] (step 2).connection: there is no connection named 'Store B'" in err
    assert not Automation.objects.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not JSON"),
        ("[]", 'a list "automations"'),
        ('{"automations": {}}', 'a list "automations"'),
        ("\udcff", "is not UTF-8"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_an_unreadable_file_exits_2(tmp_path, shop_connection, content, expected):
    path = tmp_path / "bad.json"
    if content == "\udcff":
        path.write_bytes(b"\xff\xfe{")
    else:
        path.write_text(content)
    status, out, err = run("import_automations", str(path))
    assert status == 2 and out == ""
    assert expected in err


def test_a_missing_file_exits_2(tmp_path):
    status, _, err = run("import_automations", str(tmp_path / "nope.json"))
    assert status == 2 and "Cannot read" in err


def test_a_literal_password_is_never_exported_and_survives_an_import(tmp_path, shop_connection):
    create = {
        "name": "Copy customers",
        "trigger": {"connection": "Sandbox", "type": "customer_created"},
        "steps": [
            {
                "action": "create_customer",
                "inputs": {
                    "email": "{{ trigger.email }}",
                    "firstname": "{{ trigger.firstname }}",
                    "lastname": "{{ trigger.lastname }}",
                    "password": "Sup3r-Secret-Pass",
                },
            }
        ],
    }
    assert run("import_automations", write(tmp_path, {"automations": [create]}))[0] == 0
    status, out, err = run("export_automations")
    assert status == 0 and "Sup3r-Secret-Pass" not in out
    assert "password (a password) is left out" in err
    # Importing the export keeps the password the automation has.
    assert run("import_automations", write(tmp_path, out, "again.json"))[0] == 0
    assert AutomationStep.objects.get().inputs["password"] == "Sup3r-Secret-Pass"


def test_the_service_reports_every_problem_at_once(shop_connection):
    from automations.portable import ImportFileError

    data = {
        "automations": [
            {"name": "", "trigger": {"connection": "Sandbox", "type": "nope"}, "steps": []},
            {"name": "X", "trigger": [], "steps": [{"action": "get_product_by_sku"}], "extra": 1},
        ]
    }
    with pytest.raises(ImportFileError) as raised:
        automations_import(data)
    text = "\n".join(raised.value.problems)
    assert "automations[0], name: Name: give the automation a name." in text
    assert "there is no trigger 'nope'" in text
    assert "add at least one step" in text
    assert "Automation 'X' (automations[1]): unknown key 'extra'" in text
    assert "Automation 'X' (automations[1]), trigger: must be an object, got a list." in text
    assert "SKU: this input is required." in text
    assert not Automation.objects.exists()
