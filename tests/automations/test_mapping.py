"""Mapping values: references keep their JSON type, text renders, nothing is evaluated."""

import pytest

from automations.mapping import MappingError, check_mapping, references, resolve_inputs

TRIGGER = {
    "email": "jane@example.com",
    "entity_id": 42,
    "grand_total": 19.5,
    "is_active": True,
    "note": None,
    "items": [{"sku": "a/b", "qty_ordered": 2}],
    "extension_attributes": {"tags": ["x", "y"]},
}
STEPS = {1: {"id": 7, "name": "Tee"}}


def resolve(value, **kw):
    return resolve_inputs({"field": value}, trigger=TRIGGER, steps=STEPS, **kw)["field"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{{ trigger.entity_id }}", 42),
        ("{{trigger.grand_total}}", 19.5),
        ("  {{ trigger.is_active }} ", True),
        ("{{ trigger.note }}", None),
        ("{{ trigger.items }}", [{"sku": "a/b", "qty_ordered": 2}]),
        ("{{ trigger.items.0.sku }}", "a/b"),
        ("{{ steps.1.id }}", 7),
        ("Order {{ trigger.entity_id }} for {{ trigger.email }}", "Order 42 for jane@example.com"),
        ("{{ trigger.is_active }}/{{ trigger.note }}/", "true//"),
        ("tags: {{ trigger.extension_attributes.tags }}", 'tags: ["x","y"]'),
        ("no references", "no references"),
        ("{% if x %}{{ steps.1.name }}{% endif %}", "{% if x %}Tee{% endif %}"),
        (5, 5),
        ([{"sku": "{{ trigger.items.0.sku }}", "qty": 1}], [{"sku": "a/b", "qty": 1}]),
    ],
)
def test_values_resolve(value, expected):
    assert resolve(value) == expected


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("{{ trigger.missing }}", "trigger.missing"),
        ("{{ trigger.items.1.sku }}", "trigger.items.1.sku"),
        ("{{ trigger.email.first }}", "trigger.email.first"),
        ("{{ steps.2.id }}", "step 2 has no output"),
        ("{{ trigger.__class__ }}", "trigger.__class__"),
        ("{{ trigger.email | upper }}", "is not a reference"),
        ("{{ trigger.email.upper() }}", "is not a reference"),
        ("{{ 7 * 7 }}", "is not a reference"),
        ("{{ steps.first.id }}", "name the step by its number"),
        ("{{ settings.SECRET_KEY }}", "is not a reference"),
    ],
)
def test_bad_references_fail_naming_the_path(value, named):
    with pytest.raises(MappingError) as failure:
        resolve(value)
    assert named in failure.value.errors["field"]


def test_every_failing_input_is_named():
    with pytest.raises(MappingError) as failure:
        resolve_inputs({"a": "{{ trigger.x }}", "b": "{{ trigger.y }}", "c": "ok"}, trigger={})
    assert set(failure.value.errors) == {"a", "b"}


def test_a_manual_run_has_no_trigger():
    with pytest.raises(MappingError) as failure:
        resolve("{{ trigger.email }}", has_trigger=False)
    assert "no trigger record" in failure.value.errors["field"]


def test_static_checks_catch_syntax_and_later_steps():
    problems = check_mapping(
        {"a": "{{ steps.2.id }}", "b": "{{ x | y }}", "c": "{{ steps.1.id }}"}, position=2
    )
    assert set(problems) == {"a", "b"}
    assert "does not run before step 2" in problems["a"]
    assert references({"x": ["{{ trigger.a }}", "t {{steps.1.b}}"]}) == ["trigger.a", "steps.1.b"]
