"""What a run records is scrubbed of the connection's credentials, however deep they are."""

from __future__ import annotations

from automations.runs import _scrub

ANSWER = {
    "sku": "MB01",
    "custom_attributes": [{"attribute_code": "note", "value": "plain"}],
    "extension_attributes": {"links": ["one", {"deep": "two"}]},
}


def test_an_answer_without_a_secret_is_kept_as_it_is():
    assert _scrub(ANSWER, ["tok-123456"]) is ANSWER


def test_a_secret_anywhere_in_an_answer_is_hidden():
    answer = {
        **ANSWER,
        "extension_attributes": {"links": ["one", {"deep": "echo tok-123456 back"}]},
        "tok-123456": 1,
    }
    scrubbed = _scrub(answer, ["tok-123456"])
    assert scrubbed["extension_attributes"]["links"][1]["deep"] == "echo [hidden] back"
    assert "[hidden]" in scrubbed and "tok-123456" not in str(scrubbed)


def test_a_secret_json_would_escape_is_looked_for_value_by_value():
    secret = 'pa"ss\\word'
    scrubbed = _scrub([{"message": f"refused {secret}"}], [secret])
    assert scrubbed == [{"message": "refused [hidden]"}]
