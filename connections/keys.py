"""Key rotation: re-encrypt saved credentials after SECRET_KEY or CRYPTOGRAPHY_KEY changed.

django-cryptography derives its AES key from CRYPTOGRAPHY_KEY and signs every value with
SECRET_KEY, so after a change of either the saved values cannot be read with the new settings.
This module reads the raw columns, decrypts them with the old keys and saves them again (which
encrypts with the current keys).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.utils.encoding import force_bytes
from django_cryptography.core.signing import FernetSigner
from django_cryptography.utils.crypto import FernetBytes

from connections.models import Connection, CredentialsUnreadable, decrypt_credential
from connections.selectors import ENCRYPTED_FIELDS


@dataclass(frozen=True)
class ReencryptResult:
    reencrypted: int
    already_current: int
    unreadable: list[str]


def _fernet(*, secret_key: str, cryptography_key: str | None) -> FernetBytes:
    """A decrypter for values written under the given keys (same derivation as the library).

    Without a cryptography key the current one is used (only SECRET_KEY changed).
    """
    if not cryptography_key:
        current = _current_field("access_token")._fernet.key
        return FernetBytes(key=current, signer=FernetSigner(key=secret_key))
    kdf = PBKDF2HMAC(
        algorithm=settings.CRYPTOGRAPHY_DIGEST,
        length=settings.CRYPTOGRAPHY_DIGEST.digest_size,
        salt=force_bytes(settings.CRYPTOGRAPHY_SALT),
        iterations=30000,
    )
    key = kdf.derive(force_bytes(cryptography_key))
    return FernetBytes(key=key, signer=FernetSigner(key=secret_key))


def _current_field(name: str):
    return Connection._meta.get_field(name)


def connections_reencrypt(
    *, old_secret_key: str, old_cryptography_key: str | None, dry_run: bool = False
) -> ReencryptResult:
    """Re-encrypt every connection's credentials from the old keys to the current ones."""
    old = _fernet(secret_key=old_secret_key, cryptography_key=old_cryptography_key)
    table = Connection._meta.db_table
    quote = db_connection.ops.quote_name
    columns = ", ".join(quote(_current_field(f).column) for f in ENCRYPTED_FIELDS)
    reencrypted = already = 0
    unreadable: list[str] = []
    with transaction.atomic():
        with db_connection.cursor() as cursor:
            cursor.execute(f"SELECT id, name, {columns} FROM {quote(table)}")  # noqa: S608
            rows = cursor.fetchall()
        for row in rows:
            pk, name, raws = row[0], row[1], row[2:]
            values = {}
            current_ok = True
            failed = False
            for field_name, raw in zip(ENCRYPTED_FIELDS, raws, strict=True):
                if raw is None:
                    continue
                try:
                    _current_field(field_name)._load(force_bytes(raw))
                    continue
                except CredentialsUnreadable:
                    current_ok = False
                try:
                    values[field_name] = decrypt_credential(force_bytes(raw), old)
                except CredentialsUnreadable:
                    failed = True
            if failed:
                unreadable.append(name)
            elif current_ok:
                already += 1
            else:
                reencrypted += 1
                if not dry_run:
                    Connection.objects.filter(pk=pk).update(**values)
    return ReencryptResult(reencrypted=reencrypted, already_current=already, unreadable=unreadable)
