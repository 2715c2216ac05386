"""A search answer decoded once, keeping the exact JSON text the store sent for each item.

Whoever stores the items as JSON (the portal's trigger events) can then write that text as it
is instead of encoding each decoded item again: decoding the text gives back an equal item, as
the item was decoded from it. Each value is decoded by the standard library's own scanner
(`json.JSONDecoder.raw_decode`, which reports where the value ends), so the decoded answer is
the one `json.loads` gives; anything but a JSON object is left to `json.loads`, with no texts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True)
class DecodedAnswer:
    """A decoded JSON answer; `item_texts[i]` is the JSON text of `body["items"][i]` as sent,
    or `item_texts` is None when the answer has no list of items (or was not an object)."""

    body: Any
    item_texts: list[str] | None


def decode_keeping_item_texts(content: bytes | str) -> DecodedAnswer:
    """Decode an answer as `json.loads` does (and fail as it does: ValueError), keeping the text
    of each element of the top-level object's "items" list."""
    if isinstance(content, bytes | bytearray):
        # As json.loads reads bytes: UTF-8, -16 or -32, found from the first bytes.
        text = content.decode(json.detect_encoding(content), "surrogatepass")
    else:
        text = content
    try:
        return _decode_object(text)
    except (ValueError, IndexError):
        return DecodedAnswer(json.loads(text), None)  # not an object, or not JSON: its error


def _decode_object(text: str) -> DecodedAnswer:
    skip = _WHITESPACE.match
    index = skip(text, 0).end()
    if text[index] != "{":
        raise ValueError("not an object")
    body: dict[str, Any] = {}
    texts: list[str] | None = None
    index = skip(text, index + 1).end()
    if text[index] == "}":
        index += 1
    else:
        while True:
            if text[index] != '"':
                raise ValueError("a key is not a string")
            key, index = _DECODER.raw_decode(text, index)
            index = skip(text, index).end()
            if text[index] != ":":
                raise ValueError("no colon after a key")
            index = skip(text, index + 1).end()
            if key == "items" and text[index] == "[":
                body[key], texts, index = _decode_items(text, index)
            else:
                body[key], index = _DECODER.raw_decode(text, index)
                if key == "items":
                    texts = None  # a later "items" replaces an earlier one, as in json.loads
            index = skip(text, index).end()
            if text[index] == ",":
                index = skip(text, index + 1).end()
                continue
            if text[index] != "}":
                raise ValueError("no comma or end after a value")
            index += 1
            break
    if skip(text, index).end() != len(text):
        raise ValueError("something after the object")
    if texts is not None and not _encodable(text):
        texts = None  # undecodable bytes decoded as lone surrogates: no text to store as is
    return DecodedAnswer(body, texts)


def _decode_items(text: str, index: int) -> tuple[list[Any], list[str], int]:
    skip = _WHITESPACE.match
    items: list[Any] = []
    texts: list[str] = []
    index = skip(text, index + 1).end()
    if text[index] == "]":
        return items, texts, index + 1
    while True:
        item, end = _DECODER.raw_decode(text, index)
        items.append(item)
        texts.append(text[index:end])
        index = skip(text, end).end()
        if text[index] == ",":
            index = skip(text, index + 1).end()
            continue
        if text[index] != "]":
            raise ValueError("no comma or end after an item")
        return items, texts, index + 1


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
