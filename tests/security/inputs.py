"""Bad input: the values every form field and command-line option is given, and how to judge
the answer.

Every field gets every kind of value below. The answer is one of two:
- refused: a message at that field (a form error on it, or a command-line line that starts
  with its option), nothing saved, no request to the store;
- accepted: the value is kept exactly as typed (text is text: HTML, SQL, braces and "../" are
  never interpreted) and shown escaped.
Some kinds must always be refused (MUST_REFUSE); never a 500, never a traceback.
"""

from __future__ import annotations

import json
import re
from typing import Any

TOO_LONG = "x" * 5000

# One value per kind; "wrong type" depends on the field (see wrong_type).
BAD_TEXT = {
    "empty": "",
    "too long": TOO_LONG,
    "unicode": "Ärger Шоп 店 🛒 ﷽",
    "control characters": "a\x00b\x07c\x1b[31md\u202ee\u200bf",
    "HTML": '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "SQL": "x' OR '1'='1'; DROP TABLE connections_connection; --",
    "template syntax": "{{ settings.SECRET_KEY }}{% debug %}{{7*7}}",
    "path traversal": "../../../etc/passwd",
    "CRLF": "line\r\nX-Injected: 1",
}
KINDS = (*BAD_TEXT, "wrong type")
# Kinds no single-line text field may keep.
MUST_REFUSE = frozenset({"too long", "control characters", "CRLF", "wrong type"})

# What a value typed into one field must never do elsewhere on a page.
UNESCAPED = re.compile(r"<script>alert|<img src=x onerror")


def value_of(kind: str, *, wrong: Any = "no-such-choice") -> Any:
    """The value of a kind; `wrong` is the field's wrong-type value."""
    return wrong if kind == "wrong type" else BAD_TEXT[kind]


def short(value: Any) -> str:
    """A value for a test id: short and printable."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text[:20].encode("unicode_escape").decode()


def no_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" not in text
