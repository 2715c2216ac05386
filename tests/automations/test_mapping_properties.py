"""Properties (Hypothesis) of the mapping resolver (automations.mapping).

For any JSON trigger record: a value that is exactly one reference to a path in it gives the
value at that path with its JSON type; a path that is not there fails naming the path; text
without references comes back unchanged whatever it holds ("{%", "__class__", "}}", HTML);
text looked up is never looked into again; and anything else in braces either resolves to
plain text or is refused with MappingError, never another exception.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automations.mapping import MappingError, resolve_inputs, resolve_value

PROPERTIES = settings(max_examples=300, deadline=None, derandomize=True, database=None)

# Keys a reference can name (the resolver's path grammar), and any JSON beneath them.
key = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_\-]{0,8}\Z")
any_text = st.text(st.characters(codec="utf-8"), max_size=30)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    any_text,
)
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(key, inner, max_size=4)),
    max_leaves=20,
)
record = st.dictionaries(key, json_value, min_size=1, max_size=6)


def pieces(awkward: list[str]):
    """Text joined from any characters and the awkward pieces given."""
    piece = st.one_of(st.characters(codec="utf-8"), st.sampled_from(awkward))
    return st.lists(piece, max_size=20).map("".join)


@st.composite
def record_and_path(draw):
    """A record and a path into it that exists, with the value found there."""
    current = draw(record)
    root = current
    path: list[str] = []
    while True:
        if isinstance(current, dict) and current:
            step = draw(st.sampled_from(sorted(current)))
            path.append(step)
            current = current[step]
        elif isinstance(current, list) and current:
            index = draw(st.integers(0, len(current) - 1))
            path.append(str(index))
            current = current[index]
        else:
            break
        if draw(st.booleans()):
            break
    return root, path, current


def same_json(left, right) -> bool:
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True) and type(
        left
    ) is type(right)


@PROPERTIES
@given(record_and_path(), st.sampled_from(["", " ", "  "]))
def test_exact_reference_keeps_the_json_value_and_type(found, space):
    root, path, value = found
    written = f"{{{{{space}trigger.{'.'.join(path)}{space}}}}}"
    assert same_json(resolve_value(written, trigger=root), value)
    # The same under a step's number.
    assert same_json(resolve_value(written.replace("trigger", "steps.1"), steps={1: root}), value)


@PROPERTIES
@given(record_and_path(), any_text.filter(lambda t: "{{" not in t), key)
def test_a_missing_path_fails_naming_the_path(found, _text, missing):
    root, path, value = found
    if isinstance(value, dict) and missing in value:
        return
    wanted = ".".join(["trigger", *path, missing])
    with pytest.raises(MappingError) as refused:
        resolve_inputs({"email": f"{{{{ {wanted} }}}}"}, trigger=root)
    assert list(refused.value.errors) == ["email"]
    assert wanted in refused.value.errors["email"]


@PROPERTIES
@given(
    pieces(["{%", "%}", "}}", "{", "__class__", "<script>", "${", "`", "\\"]).filter(
        lambda text: "{{" not in text
    ),
    record,
)
def test_text_without_references_is_kept_exactly(text, trigger):
    assert resolve_value(text, trigger=trigger) == text
    assert resolve_value([text, {"k": text}], trigger=trigger) == [text, {"k": text}]


@PROPERTIES
@given(any_text, st.sampled_from(["{{ trigger.v }}", "x{{trigger.v}}y"]))
def test_looked_up_text_is_never_looked_into_again(stored, written):
    # Whatever the record holds, braces included, arrives as it is: one lookup, no second pass.
    stored = f"{{{{ trigger.secret }}}}{{% debug %}}{stored}"
    resolved = resolve_value(written, trigger={"v": stored, "secret": "SHOULD-NOT-APPEAR"})
    assert stored in resolved and "SHOULD-NOT-APPEAR" not in resolved


@PROPERTIES
@given(
    pieces(["{{", "}}", "{{ trigger.", "steps.1", ".", "0", "__class__", "|", "(", "*", " "]),
    record,
)
def test_anything_in_braces_resolves_to_text_or_is_refused(text, trigger):
    try:
        resolved = resolve_value(text, trigger=trigger, steps={1: trigger})
    except MappingError as refused:
        assert refused.errors["value"]
        return
    if "{{" not in text:
        assert resolved == text
    # No attribute, call or expression ever ran: only the record's own values can appear.
    assert "<class" not in json.dumps(resolved, default=str)
