"""Rotating keys as the README says: reencrypt_connections reads every value, several hundred."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection as db

from connections.models import Connection
from connections.selectors import ENCRYPTED_FIELDS
from tests.connections.key_helpers import (
    OLD_CRYPTOGRAPHY_KEY,
    OLD_SECRET_KEY,
    passes_padding,
    seal,
    seal_passing_padding,
    write_raw,
)

pytestmark = pytest.mark.django_db

CONNECTIONS = 100  # x 7 encrypted columns = 700 values

# Which keys changed, and the old values the command is given.
ROTATIONS = {
    "cryptography_key": {"OLD_CRYPTOGRAPHY_KEY": OLD_CRYPTOGRAPHY_KEY},
    "secret_key": {"OLD_DJANGO_SECRET_KEY": OLD_SECRET_KEY},
    "both": {"OLD_DJANGO_SECRET_KEY": OLD_SECRET_KEY, "OLD_CRYPTOGRAPHY_KEY": OLD_CRYPTOGRAPHY_KEY},
}


def _old_keys(rotation: str) -> dict:
    variables = ROTATIONS[rotation]
    return {
        "secret_key": variables.get("OLD_DJANGO_SECRET_KEY", settings.SECRET_KEY),
        "cryptography_key": variables.get("OLD_CRYPTOGRAPHY_KEY"),
    }


def _value(number: int, field: str) -> str:
    return f"{field}-{number:04d}-AAAAbbbbCCCCdddd"


@pytest.mark.parametrize("rotation", sorted(ROTATIONS))
def test_reencrypt_reads_every_value_after_a_key_change(rotation, monkeypatch):
    Connection.objects.bulk_create(
        Connection(name=f"Shop {n:03d}", store_domain=f"https://shop{n}.example.com")
        for n in range(CONNECTIONS)
    )
    old_keys = _old_keys(rotation)
    crafted = 0
    for index, connection in enumerate(Connection.objects.defer(*ENCRYPTED_FIELDS)):
        raws = {}
        for offset, field in enumerate(ENCRYPTED_FIELDS):
            number = index * len(ENCRYPTED_FIELDS) + offset
            raws[field] = seal(_value(index, field), number=number, **old_keys)
        if rotation == "cryptography_key" and index % 25 == 0:
            # The case that crashed: decrypted with the current keys, the value passes the
            # padding check and only fails to unpickle. Four of them, found deterministically.
            raws["access_token"], _ = seal_passing_padding(
                _value(index, "access_token"), start=index * 1000
            )
            crafted += 1
        write_raw(connection.pk, **raws)

    raws = [raw for row in _raw_columns() for raw in row]
    assert len(raws) == CONNECTIONS * len(ENCRYPTED_FIELDS)
    padding_passes = sum(passes_padding(raw) for raw in raws)
    if rotation == "cryptography_key":
        assert padding_passes >= crafted == 4
    else:
        assert padding_passes == 0  # the signature already fails

    for name, value in ROTATIONS[rotation].items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    call_command("reencrypt_connections", stdout=out)
    assert f"Re-encrypted {CONNECTIONS} connection(s); 0 already used" in out.getvalue()

    for index, connection in enumerate(Connection.objects.order_by("name")):
        for field in ENCRYPTED_FIELDS:
            assert getattr(connection, field) == _value(index, field)

    out = io.StringIO()
    call_command("reencrypt_connections", stdout=out)
    assert f"0 connection(s); {CONNECTIONS} already used the current keys" in out.getvalue()


def _raw_columns():
    columns = ", ".join(ENCRYPTED_FIELDS)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM connections_connection")
        return [[bytes(raw) for raw in row] for row in cursor.fetchall()]
