"""Bad input to automation_create: the name, the trigger id, every option and filter of every
trigger (read from the trigger catalog), the poll interval and the look-back window each get
every kind of bad value (tests/security/inputs.py). Refused input raises ValidationError naming
the field and saves nothing; accepted text is kept exactly."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from automations.models import Automation, TriggerSubscription
from automations.services import automation_create
from automations.triggers import TRIGGERS, get_trigger, trigger_choices
from automations.triggers._base import START_OPTION
from connections.models import Connection
from tests.connections.helpers import token_fields
from tests.security.inputs import KINDS, MUST_REFUSE, value_of

pytestmark = pytest.mark.django_db

# Wrong types for the service's own arguments (it is called with Python values).
WRONG = {
    "name": 5,
    "trigger_id": ["order_created"],
    "options": "status=pending",
    "poll_interval_minutes": "5",
    "lookback_seconds": True,
}


def option_fields() -> list[tuple[str, str, object]]:
    """(trigger id, option name, wrong-type value) for every option of every trigger."""
    trigger_choices()  # fills the catalog
    found = []
    for trigger_id in TRIGGERS:
        trigger = get_trigger(trigger_id)
        found.append((trigger_id, START_OPTION, 20240501))
        for search_filter in trigger.filters:
            wrong = "ten" if search_filter.type == "int" else {"an": "object"}
            found.append((trigger_id, search_filter.name, wrong))
        for option in trigger.options:
            found.append((trigger_id, option.name, "yes"))
    return found


@pytest.fixture
def connection(db):
    return Connection.objects.create(**token_fields(store_domain="https://shop.example.com"))


def create(connection, **given):
    arguments = {"name": "New orders to ERP", "trigger_id": "order_created", **given}
    return automation_create(connection=connection, **arguments)


def assert_refused(connection, field: str, **given) -> str:
    with pytest.raises(ValidationError) as refused:
        create(connection, **given)
    messages = refused.value.message_dict
    assert field in messages, f"the message is not at {field}: {messages}"
    assert Automation.objects.count() == 0 and TriggerSubscription.objects.count() == 0
    return " ".join(messages[field])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("field", list(WRONG))
def test_automation_argument_gets_bad_value(connection, field, kind):
    value = value_of(kind, wrong=WRONG[field])
    try:
        made = create(connection, **{field: value})
    except ValidationError as refused:
        assert field in refused.message_dict, refused.message_dict
        assert Automation.objects.count() == 0 and TriggerSubscription.objects.count() == 0
        if kind == "too long":
            assert "x" * 100 not in str(refused), "the message repeats the whole value"
        return
    assert field == "name" and kind not in MUST_REFUSE | {"empty"}, f"{kind} {field} was saved"
    assert made.name == value.strip()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("trigger_id", "option", "wrong"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}") for case in option_fields()],
)
def test_trigger_option_gets_bad_value(connection, trigger_id, option, wrong, kind):
    value = value_of(kind, wrong=wrong)
    try:
        made = create(connection, trigger_id=trigger_id, options={option: value})
    except ValidationError as refused:
        message = " ".join(refused.message_dict["options"])
        assert f"{option}: " in message, message
        assert Automation.objects.count() == 0 and TriggerSubscription.objects.count() == 0
        assert len(message) < 500, "the message repeats the whole value"
        return
    assert kind not in MUST_REFUSE, f"{kind} in {option} was saved"
    kept = made.trigger.options.get(option)
    if kind == "empty":
        assert option != START_OPTION or kept == "now"
        return
    assert option != START_OPTION, f"{value!r} was taken as a start"
    assert kept == [value.strip()], f"{option} was changed on the way: {kept!r}"


def test_unknown_option_names_are_refused_by_name(connection):
    message = assert_refused(
        connection, "options", options={"status\r\nX": "pending", "x" * 5000: 1}
    )
    assert "status\\r\\nX" in message and "x" * 100 not in message


def test_every_trigger_option_is_covered():
    names = {(trigger_id, option) for trigger_id, option, _wrong in option_fields()}
    assert ("order_created", "status") in names and ("customer_created", START_OPTION) in names
