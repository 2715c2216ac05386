"""Bad input to actions: every declared input of every action, on the "Run an action" page, on
run_action's --input and --input-json, and through a step's mapping, gets every kind of bad
value (tests/security/inputs.py). Inputs are read from the action catalog, so a new action or
input is covered without touching this file.

Refused input names the input, records no run (manual runs) and reaches no store: the store
mock is strict with nothing registered. Accepted input is sent as typed: the one request the
unreachable store gets is then the proof, and the run keeps the value exactly.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from automations.actions import ACTIONS, ActionInput, action_choices, get_action
from automations.models import ActionRun
from automations.runs import event_runs_execute
from connections.models import Connection
from tests.automations.runs_helpers import automation, fire
from tests.connections.helpers import token_fields
from tests.helpers import manage
from tests.security.inputs import (
    BAD_TEXT,
    KINDS,
    MUST_REFUSE,
    UNESCAPED,
    no_traceback,
    value_of,
)

pytestmark = pytest.mark.django_db

RUN_URL = reverse("admin:automations_actionrun_run_action")

# A valid value of each input type, as typed into a form or on the command line.
SAMPLE = {
    "string": "Ann",
    "email": "ann@example.com",
    "integer": "1",
    "number": "9.5",
    "boolean": "yes",
    "date": "1980-05-17",
    "lines": "Main Street 1",
    "json": '{"color": "red"}',
}
# What makes an action's inputs complete beside its required ones (cross-input rules), and
# inputs that exclude each other (testing one leaves the other out).
COMPLETE = {
    "create_customer": {"street": "Main Street 1", "city": "Berlin", "country_id": "DE",
                        "telephone": "+49 30 1234567"},
    "update_customer": {"customer_id": "1", "firstname": "Ann", "lastname": "Lee"},
    "update_product": {"name": "Tee", "price": "9.5"},
    "create_shipment": {"order_increment_id": "000000001", "track_number": "1Z999",
                        "carrier_code": "ups"},
}  # fmt: skip
EXCLUDES = {("create_shipment", "order_id"): "order_increment_id"}
# A value of the wrong type for each input type: as text (forms, --input) and as JSON.
WRONG_TEXT = {
    "integer": "ten",
    "number": "ten",
    "boolean": "maybe",
    "choice": "no-such-choice",
    "date": "yesterday",
    "email": "not-an-email",
    "json": "[1, 2",
}
WRONG_JSON = {
    "string": {"an": "object"},
    "email": 5,
    "integer": 1.5,
    "number": True,
    "boolean": 2,
    "date": 19800517,
    "choice": ["a list"],
    "lines": [1, 2],
    "json": 5,
}


def bad_value(item: ActionInput, kind: str, *, wrong):
    """The kind's value for this input: "too long" is one character over its limit."""
    if kind == "too long":
        return "x" * (item.length_limit + 1)
    return value_of(kind, wrong=wrong)


def sample(item: ActionInput) -> str:
    return item.choices[0][0] if item.type == "choice" else SAMPLE[item.type]


def base_inputs(action_id: str, tested: str) -> dict[str, str]:
    action = get_action(action_id)
    values = {item.name: sample(item) for item in action.inputs if item.required}
    values.update(COMPLETE.get(action_id, {}))
    values.pop(EXCLUDES.get((action_id, tested), ""), None)
    values.pop(tested, None)
    return values


def named(name: str, action_id: str) -> set[str]:
    """Where a refusal of this input may be said: at it, or at the input it excludes (the
    message there names both)."""
    return {name, EXCLUDES.get((action_id, name), name)}


def all_inputs() -> list[tuple[str, ActionInput]]:
    action_choices()  # fills the catalog
    return [(action_id, item) for action_id, cls in ACTIONS.items() for item in cls.inputs]


def must_refuse(item: ActionInput, kind: str) -> bool:
    multiline = item.multiline or item.type in ("lines", "json")
    if kind == "empty":
        return item.required and item.default is None
    if kind == "CRLF":
        return not multiline or item.type == "json"
    if kind == "wrong type":
        return item.type in WRONG_TEXT
    return kind in MUST_REFUSE


def cases():
    for action_id, item in all_inputs():
        for kind in KINDS:
            yield pytest.param(action_id, item, kind, id=f"{action_id}-{item.name}-{kind}")


@pytest.fixture
def connection(db):
    return Connection.objects.create(**token_fields(store_domain="https://shop.example.com"))


def judge_accepted(item: ActionInput, kind: str, value, run: ActionRun, store_mock) -> None:
    assert not must_refuse(item, kind), f"{kind} in {item.name} was sent to the store"
    assert len(store_mock.calls) >= 1, "accepted, yet nothing was sent"
    for call in store_mock.calls:
        url = call.request.url
        assert "\r" not in url and "\n" not in url and "/../" not in url, url
    if item.type == "string" and not item.secret and isinstance(value, str) and value.strip():
        assert run.inputs[item.name] in (value, value.strip()), "the value changed on the way"
    if item.secret and value:
        assert value not in json.dumps(run.inputs) + json.dumps(run.input_mapping)


@pytest.mark.parametrize(("action_id", "item", "kind"), list(cases()))
def test_run_an_action_page_field_gets_bad_value(
    editor_client, store_mock, connection, action_id, item, kind
):
    value = bad_value(item, kind, wrong=WRONG_TEXT.get(item.type, ["two", "values"]))
    data = {"connection": connection.pk, "action": action_id, "run": "Run"}
    data.update(base_inputs(action_id, item.name))
    data[item.name] = value
    response = editor_client.post(RUN_URL, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert not UNESCAPED.search(page)
    form = response.context["inputs_form"]
    if form.errors:
        assert named(item.name, action_id) & set(form.errors), (
            f"the message is not at {item.name}: {dict(form.errors)}"
        )
        assert ActionRun.objects.count() == 0
        assert len(store_mock.calls) == 0, "the store was asked about refused input"
        return
    if isinstance(value, list):
        value = value[-1]  # a field posted twice: the last value counts, as in Django
    judge_accepted(item, kind, value, ActionRun.objects.get(), store_mock)


def judge_command(item, kind, value, code, out, err, store_mock, action_id) -> None:
    assert no_traceback(out + err), err
    if code == 2:
        assert any(f"  {name}: " in err for name in named(item.name, action_id)), (
            f"the message does not name {item.name}: {err}"
        )
        assert ActionRun.objects.count() == 0
        assert len(store_mock.calls) == 0, "the store was asked about refused input"
        if item.secret and isinstance(value, str) and len(value) > 3:
            assert value not in err
        return
    assert code == 1, (code, out, err)  # the unreachable store
    judge_accepted(item, kind, value, ActionRun.objects.get(), store_mock)


@pytest.mark.parametrize(("action_id", "item", "kind"), list(cases()))
def test_run_action_input_gets_bad_value(
    monkeypatch, capsys, store_mock, connection, action_id, item, kind
):
    value = bad_value(item, kind, wrong=WRONG_TEXT.get(item.type, "two values"))
    pairs = [f"--input={name}={text}" for name, text in base_inputs(action_id, item.name).items()]
    pairs.append(f"--input={item.name}={value}")
    code, out, err = manage(
        monkeypatch, capsys, "run_action", action_id, f"--connection={connection.name}", *pairs
    )
    judge_command(item, kind, value, code, out, err, store_mock, action_id)


@pytest.mark.parametrize(
    ("action_id", "item"),
    [pytest.param(a, i, id=f"{a}-{i.name}") for a, i in all_inputs()],
)
def test_run_action_input_json_gets_wrong_type(
    monkeypatch, capsys, store_mock, connection, action_id, item
):
    inputs = {**base_inputs(action_id, item.name), item.name: WRONG_JSON[item.type]}
    code, out, err = manage(
        monkeypatch,
        capsys,
        "run_action",
        action_id,
        f"--connection={connection.name}",
        f"--input-json={json.dumps(inputs)}",
    )
    assert no_traceback(out + err), err
    assert code == 2, (code, out, err)
    assert f"  {item.name}: " in err
    assert ActionRun.objects.count() == 0 and len(store_mock.calls) == 0


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        pytest.param(["--input=sku"], "--input", id="input-without-equals"),
        pytest.param(["--input==x"], "--input", id="input-without-key"),
        pytest.param(["--input-json={"], "--input-json", id="json-broken"),
        pytest.param(["--input-json=[1]"], "--input-json", id="json-not-object"),
        pytest.param(["--input-json=" + json.dumps({"sku": "x" * 100_000})], "sku", id="json-long"),
        pytest.param(["--input-json"], "--input-json", id="json-missing"),
        pytest.param(["--input=sku=a", "--input-json={}"], "--input-json", id="both"),
        *[
            pytest.param([f"--input={BAD_TEXT[kind]}=1"], "input", id=f"key-{kind}")
            for kind in BAD_TEXT
        ],
    ],
)
def test_run_action_malformed_options(monkeypatch, capsys, store_mock, connection, argv, named):
    code, out, err = manage(
        monkeypatch,
        capsys,
        "run_action",
        "get_product_by_sku",
        f"--connection={connection.name}",
        *argv,
    )
    assert no_traceback(out + err), err
    assert code == 2, (code, out, err)
    assert named in err, err
    assert ActionRun.objects.count() == 0 and len(store_mock.calls) == 0


@pytest.mark.parametrize("kind", list(BAD_TEXT))
@pytest.mark.parametrize("option", ["action_id", "--connection"])
def test_run_action_names_get_bad_value(monkeypatch, capsys, store_mock, connection, option, kind):
    value = BAD_TEXT[kind]
    action_id = value if option == "action_id" else "get_product_by_sku"
    name = value if option == "--connection" else connection.name
    code, out, err = manage(
        monkeypatch, capsys, "run_action", "--connection", name, "--input=sku=a", "--", action_id
    )
    assert no_traceback(out + err), err
    assert code == 2, (code, out, err)
    assert ("action" if option == "action_id" else "connection") in err.lower()
    assert "\x1b" not in err and "\x00" not in err and "\r" not in err
    assert ActionRun.objects.count() == 0 and len(store_mock.calls) == 0


# -- mappings: the value comes from the trigger record through a reference --------------------


def mapping_cases():
    for action_id, item in all_inputs():
        for kind in KINDS:
            yield pytest.param(action_id, item, kind, id=f"{action_id}-{item.name}-{kind}")


@pytest.mark.parametrize(("action_id", "item", "kind"), list(mapping_cases()))
def test_mapped_input_gets_bad_value(store_mock, connection, action_id, item, kind):
    value = bad_value(item, kind, wrong=WRONG_JSON[item.type])
    mapping = {**base_inputs(action_id, item.name), item.name: "{{ trigger.value }}"}
    made = automation(connection, (action_id, mapping))
    event = fire(made, {"entity_id": 7, "value": value})
    event_runs_execute(event.id)
    run = ActionRun.objects.get(event=event)
    if run.error_class in ("ActionInputError", "MappingError"):
        assert any(f"{name}: " in run.error_message for name in named(item.name, action_id))
        assert len(store_mock.calls) == 0, "the store was asked about refused input"
        assert run.status == "failed"
        return
    if kind == "wrong type":
        pytest.fail(f"{value!r} was sent as {item.name} ({item.type})")
    judge_accepted(item, kind, value, run, store_mock)


@pytest.mark.parametrize(
    "written",
    [
        "{{ 7*7 }}",
        "{{ trigger.__class__ }}",
        "{{ trigger.value|upper }}",
        "{{ steps }}",
        "{{ steps.1.id }}",
        "{{ trigger.no_such_field }}",
        "{{ trigger.items.5 }}",
        "{{ settings.SECRET_KEY }}",
        "{{ trigger.value }} {{",
    ],
)
def test_mapping_that_is_not_a_reference_fails_naming_the_input(store_mock, connection, written):
    made = automation(connection, ("get_product_by_sku", {"sku": written}))
    event = fire(made, {"entity_id": 7, "value": "tee", "items": []})
    event_runs_execute(event.id)
    run = ActionRun.objects.get(event=event)
    if written.endswith("{{"):
        # A lone "{{" is text: the reference before it is looked up, the braces stay.
        assert run.inputs["sku"] == "tee {{"
        return
    assert run.status == "failed" and run.error_class == "MappingError"
    assert "sku: " in run.error_message and len(store_mock.calls) == 0
