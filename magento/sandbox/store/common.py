"""What every part of the sandbox store shares: Magento's time format, its JSON and its numbers."""

from __future__ import annotations

import json
import time


def format_time(timestamp: float) -> str:
    """Magento's UTC 'YYYY-MM-DD HH:MM:SS'."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(timestamp))


# Compact, ASCII-only JSON like PHP's json_encode (slashes are escaped where the body is sent).
dumps = json.JSONEncoder(separators=(",", ":")).encode


def num(value: float) -> int | float:
    """Print whole amounts as integers, like the published sample bodies."""
    if type(value) is int:
        return value
    value = round(value, 4)
    return int(value) if value.is_integer() else value
