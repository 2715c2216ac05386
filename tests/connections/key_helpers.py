"""Credentials as they look after a key change: values sealed with keys the portal no longer has."""

from __future__ import annotations

import hashlib
import pickle
from functools import cache

from django.conf import settings
from django.db import connection as db

from connections.keys import _fernet
from connections.models import Connection

OLD_SECRET_KEY = "the-django-secret-key-before-rotation"
OLD_CRYPTOGRAPHY_KEY = "the-cryptography-key-before-rotation"


def _iv(number: int) -> bytes:
    # Fixed initialisation vectors: which values pass the padding check is then the same on
    # every run, so no test depends on luck.
    return hashlib.sha256(f"iv-{number}".encode()).digest()[:16]


@cache
def _sealer(secret_key: str, cryptography_key: str | None):
    # Deriving a key takes a while (PBKDF2): once per pair of keys.
    return _fernet(secret_key=secret_key, cryptography_key=cryptography_key)


def seal(value, *, secret_key: str, cryptography_key: str | None, number: int = 0) -> bytes:
    """`value` encrypted as the credential fields store it, under the given keys.

    `cryptography_key=None` is the current one (settings.CRYPTOGRAPHY_KEY holds the derived key).
    """
    return _sealer(secret_key, cryptography_key)._encrypt_from_parts(
        pickle.dumps(value), 0, _iv(number)
    )


def seal_with_old_secret_key(value: str, *, number: int = 0) -> bytes:
    """Saved before DJANGO_SECRET_KEY changed: the signature no longer matches."""
    return seal(value, secret_key=OLD_SECRET_KEY, cryptography_key=None, number=number)


def current_fernet():
    """What the credential fields decrypt with: the current keys."""
    return Connection._meta.get_field("access_token")._fernet


def passes_padding(raw: bytes, reader=None) -> bool:
    """True when `reader` (default: the current keys) decrypts `raw` without complaint.

    With a wrong CRYPTOGRAPHY_KEY (and the right SECRET_KEY) that leaves random bytes, for
    about 1 value in 256: only unpickling the result can tell it is wrong.
    """
    try:
        (reader or current_fernet()).decrypt(raw)
    except Exception:
        return False
    return True


def seal_passing_padding(
    value: str, *, cryptography_key: str = OLD_CRYPTOGRAPHY_KEY, reader=None, start: int = 0
) -> tuple[bytes, int]:
    """(raw, number): `value` sealed under `cryptography_key` (and the current SECRET_KEY),
    chosen among fixed IVs so that `reader` (default: the current keys) decrypts it to random
    bytes that pass the padding check."""
    for number in range(start, start + 20_000):
        raw = seal(
            value,
            secret_key=settings.SECRET_KEY,
            cryptography_key=cryptography_key,
            number=number,
        )
        if passes_padding(raw, reader):
            return raw, number
    raise AssertionError("no value passing the padding check in 20,000 tries")


# The two ways a key change makes a value unreadable, for tests that cover both.
UNREADABLE_KINDS = {
    "secret_key_changed": lambda value: seal_with_old_secret_key(value),
    "cryptography_key_changed": lambda value: seal_passing_padding(value)[0],
}


def write_raw(pk: int, **raws: bytes) -> None:
    """Put sealed values straight into a connection's columns (as an old installation left them)."""
    with db.cursor() as cursor:
        for field, raw in raws.items():
            cursor.execute(
                f"UPDATE connections_connection SET {field} = %s WHERE id = %s",
                [raw, pk],
            )
