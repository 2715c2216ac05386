"""A connection is one Magento store the portal talks to, with its credentials kept encrypted."""

import io
import pickle
import unicodedata

from django.conf import settings
from django.core.signing import BadSignature
from django.db import models
from django_cryptography.fields import get_encrypted_field
from django_cryptography.utils.crypto import FernetBytes, InvalidToken


class TimeStampedModel(models.Model):
    """Created and updated times for every row."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuthMethod(models.TextChoices):
    INTEGRATION_TOKEN = "integration_token", "Integration Token"
    SESSION = "session", "Session Authentication"


class ConnectionStatus(models.TextChoices):
    VERIFIED = "verified", "Verified"
    UNVERIFIED = "unverified", "Not verified"
    FAILED = "failed", "Failed"


# The names of every encrypted credential field, so forms, admin and commands treat them alike.
SECRET_FIELDS = (
    "access_token",
    "consumer_key",
    "consumer_secret",
    "access_token_secret",
    "admin_password",
    "totp_secret",
)
OAUTH_FIELDS = ("consumer_key", "consumer_secret", "access_token_secret")
# Settings most connections leave alone (the form's "Advanced" section).
ADVANCED_FIELDS = ("store_code", "verify_tls", "timeout_seconds", "allow_plain_http")
# What a person may set on a connection: the form, the admin and connection_update share it.
EDITABLE_FIELDS = (
    "name",
    "store_domain",
    "auth_method",
    "access_token",
    *OAUTH_FIELDS,
    "admin_username",
    "admin_password",
    "totp_secret",
    *ADVANCED_FIELDS,
)

# Defaults and limits the form, the services and the commands share with the columns below.
DEFAULT_STORE_CODE = "all"  # Magento's code for every store view
DEFAULT_TIMEOUT_SECONDS = 30
MIN_TIMEOUT_SECONDS = 1
MAX_TIMEOUT_SECONDS = 120


class CredentialField(models.TextField):
    """A text column holding a credential: exports (dumpdata, serializers) leave it out."""

    def value_to_string(self, obj) -> str:
        # Serializers call this; an export must never carry a key or password in clear.
        return ""


def connection_name_key(name: str) -> str:
    """The form of a name that two names share when people would call them the same.

    Unicode's NFKC_Casefold idea: "Ärger Shop", "ärger shop" and "ÄRGER SHOP" (also written with a
    combining diaeresis, or in full-width letters) give one key. Computed in Python, so SQLite,
    whose LOWER() folds ASCII only, and PostgreSQL judge duplicates exactly alike.
    """
    folded = unicodedata.normalize("NFKC", name.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


# Longest name key the column holds; folding may lengthen a name ("ß" becomes "ss").
MAX_NAME_KEY_LENGTH = 400


class NameKeyField(models.CharField):
    """The connection name's key (connection_name_key), set from `name` at every save.

    Like auto_now, it is derived when the row is written, so every path that saves a connection
    (services, admin, fixtures) keeps it right; as with auto_now, queryset.update() does not.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", MAX_NAME_KEY_LENGTH)
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = connection_name_key(model_instance.name or "")
        setattr(model_instance, self.attname, value)
        return value


class CredentialsUnreadable(Exception):
    """A saved credential cannot be decrypted with the current keys.

    DJANGO_SECRET_KEY or CRYPTOGRAPHY_KEY changed since it was saved (and the credentials were
    not re-encrypted). Every failure to decrypt or to unpickle a credential becomes this one
    exception, wherever the value is read.
    """

    def __init__(self, field: str = "") -> None:
        what = f"The saved {field}" if field else "A saved credential"
        super().__init__(
            f"{what} cannot be decrypted: DJANGO_SECRET_KEY or CRYPTOGRAPHY_KEY changed since it "
            "was saved. Run reencrypt_connections with the old keys (README: Rotating the "
            "encryption keys), or enter the connection's credentials again."
        )


class _TextOnlyUnpickler(pickle.Unpickler):
    # A credential is a pickled str, which needs no class at all: refusing every class means a
    # value decrypted with the wrong key can never make the unpickler import anything.
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"a credential never contains {module}.{name}")


def decrypt_credential(raw: bytes, fernet: FernetBytes, *, field: str = "") -> str:
    """The text `raw` holds, decrypted with `fernet`; raises CredentialsUnreadable otherwise.

    A wrong SECRET_KEY fails the signature. A wrong CRYPTOGRAPHY_KEY with the right SECRET_KEY
    passes it and yields random bytes, whose padding is usually refused, but about 1 time in
    256 looks valid: then the bytes fail to unpickle (or, rarer still, unpickle to something
    that is not text). All of these mean the same thing: the value is unreadable.
    """
    try:
        plain = fernet.decrypt(raw)
    except (BadSignature, InvalidToken) as error:
        raise CredentialsUnreadable(field) from error
    try:
        value = _TextOnlyUnpickler(io.BytesIO(plain)).load()
    except Exception as error:  # random bytes fail in many ways (EOFError, KeyError, ...)
        raise CredentialsUnreadable(field) from error
    if not isinstance(value, str):
        raise CredentialsUnreadable(field)
    return value


class EncryptedCredentialField(get_encrypted_field(CredentialField, True)):
    """django-cryptography's encrypted CredentialField, reading values with decrypt_credential.

    So every reader (a model, values(), an export, the re-encrypt command) gets one
    CredentialsUnreadable for a value saved under other keys, never a pickle error.
    """

    def _load(self, value: bytes) -> str:
        return decrypt_credential(value, self._fernet, field=str(self.verbose_name))

    def deconstruct(self):
        # Recorded in migrations exactly as the library's field (the column is the same; only
        # reading differs), so this class needs no migration.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django_cryptography.fields.encrypt", [CredentialField(*args, **kwargs)], {}


def _secret(verbose_name: str, help_text: str = ""):
    # Encrypted columns cannot be searched or indexed; that is fine for credentials.
    return EncryptedCredentialField(verbose_name, blank=True, default="", help_text=help_text)


class Connection(TimeStampedModel):
    """A Magento 2 store and how to sign in to its REST API."""

    name = models.CharField("Connection name", max_length=100)
    # Names are unique as people read them: the constraint is on this key, not on `name`.
    name_key = NameKeyField(default="")
    store_domain = models.CharField(
        "Store Domain",
        max_length=500,
        help_text="The store's address, for example https://shop.example.com",
    )
    auth_method = models.CharField(
        "Authentication type",
        max_length=32,
        choices=AuthMethod.choices,
        default=AuthMethod.INTEGRATION_TOKEN,
    )

    access_token = _secret("Access Token")
    consumer_key = _secret("Consumer Key")
    consumer_secret = _secret("Consumer Secret")
    access_token_secret = _secret("Access Token Secret")
    admin_username = models.CharField("Admin Username", max_length=255, blank=True, default="")
    admin_password = _secret("Admin Password")
    totp_secret = _secret("2FA secret (TOTP)")

    store_code = models.CharField("Store code", max_length=32, default=DEFAULT_STORE_CODE)
    verify_tls = models.BooleanField("Verify TLS certificate", default=True)
    timeout_seconds = models.PositiveSmallIntegerField(
        "Timeout (seconds)", default=DEFAULT_TIMEOUT_SECONDS
    )
    allow_plain_http = models.BooleanField("Allow plain http://", default=False)

    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.UNVERIFIED
    )
    last_verified_at = models.DateTimeField("Last verified", null=True, blank=True)
    last_checked_at = models.DateTimeField("Last checked", null=True, blank=True)
    last_error_code = models.CharField(max_length=64, blank=True, default="")
    last_error_message = models.TextField(blank=True, default="")
    # Per-resource outcome of the last check, e.g. {"customers": "ok", "orders": "denied"}.
    permission_results = models.JSONField(default=dict, blank=True)
    consecutive_signin_failures = models.PositiveSmallIntegerField(default=0)
    # A refused admin sign-in (Magento's message) stops unattended sign-ins until the
    # connection is saved or tested again: six refusals in a row lock the admin account.
    sign_in_refused_at = models.DateTimeField("Sign-in refused at", null=True, blank=True)
    sign_in_refusal = models.TextField(blank=True, default="")
    # Bumped by every save by a person: a refusal met by a worker still holding the credentials
    # of an earlier version must not pause the credentials saved since.
    credentials_version = models.PositiveIntegerField(default=0)

    # How the store signs an escaped reserved character in an OAuth 1.0a request path ("rfc5849"
    # on Magento 2.4.8+, "decoded" on 2.4.6/2.4.7), learned from its answers; "" not known yet.
    oauth_path_signing = models.CharField(max_length=16, blank=True, default="")

    base_url = models.CharField("Store base URL", max_length=500, blank=True, default="")
    timezone = models.CharField(max_length=64, blank=True, default="")
    currency = models.CharField(max_length=8, blank=True, default="")

    # Admin tokens are credentials too: kept encrypted, shared by web and worker processes.
    admin_token = _secret("Admin token")
    admin_token_key = models.CharField(max_length=64, blank=True, default="")
    admin_token_expires_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name_key"], name="connection_name_key_unique"),
            models.CheckConstraint(
                condition=models.Q(auth_method__in=AuthMethod.values),
                name="connection_auth_method_known",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ConnectionStatus.values),
                name="connection_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    timeout_seconds__gte=MIN_TIMEOUT_SECONDS,
                    timeout_seconds__lte=MAX_TIMEOUT_SECONDS,
                ),
                name="connection_timeout_range",
            ),
        ]
        permissions = [("verify_connection", "Can test a connection against its store")]

    # Not a column: set by selectors.connection_load_credentials when the saved credentials
    # cannot be decrypted and were blanked for typing new ones; a save then also clears the
    # cached admin token, which is unreadable too.
    credentials_unreadable = False

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # Never include credentials; the default repr would be harmless, but be explicit.
        return f"<Connection {self.pk}: {self.name!r} {self.store_domain}>"

    @staticmethod
    def label(field: str) -> str:
        """The field's name as people see it (form labels, messages, the credentials list)."""
        return str(Connection._meta.get_field(field).verbose_name)

    @property
    def uses_oauth(self) -> bool:
        """True when all four OAuth 1.0a credentials are present (they take precedence)."""
        return self.auth_method == AuthMethod.INTEGRATION_TOKEN and all(
            getattr(self, field) for field in ("access_token", *OAUTH_FIELDS)
        )

    @property
    def uses_plain_http(self) -> bool:
        """True when the store is reached over http://, so credentials travel unencrypted."""
        return (self.store_domain or "").lower().startswith("http://")

    @property
    def is_verified(self) -> bool:
        return self.status == ConnectionStatus.VERIFIED
