"""Production settings: every secret must be given, and Django's deployment checks pass.

Start with DJANGO_SETTINGS_MODULE=config.settings.production.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .sources import read_env_file

# The env file counts as given: read it before checking (base.py reading it again changes nothing).
read_env_file()
_REQUIRED = ("DJANGO_SECRET_KEY", "CRYPTOGRAPHY_KEY", "DJANGO_ALLOWED_HOSTS")
_missing = [name for name in _REQUIRED if not os.environ.get(name, "").strip()]
if _missing:
    # Checked before base.py runs, so production never falls back to a locally generated key.
    raise ImproperlyConfigured(
        "Production settings need these environment variables (or lines in the env file), which "
        "are missing or empty: "
        + ", ".join(_missing)
        + ". See the configuration table in README.md."
    )

# The keys as README.md states the rule; Django's own deployment check asks the same of SECRET_KEY.
MIN_KEY_LENGTH = 50
MIN_KEY_CHARACTERS = 5
_MAKE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


def _key_problem(name: str) -> str | None:
    # Never repeats the value: this line ends up in logs.
    value = os.environ[name].strip()
    if len(value) < MIN_KEY_LENGTH or len(set(value)) < MIN_KEY_CHARACTERS:
        return (
            f"{name} is too weak: use at least {MIN_KEY_LENGTH} characters, at least "
            f"{MIN_KEY_CHARACTERS} of them different (make one with {_MAKE_KEY})."
        )
    return None


for _problem in (_key_problem("DJANGO_SECRET_KEY"), _key_problem("CRYPTOGRAPHY_KEY")):
    if _problem:
        raise ImproperlyConfigured(_problem)
if os.environ["DJANGO_SECRET_KEY"].strip() == os.environ["CRYPTOGRAPHY_KEY"].strip():
    # One leaked value would then both forge sessions and decrypt the stores' credentials.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY and CRYPTOGRAPHY_KEY are the same: give each its own key "
        f"(make one with {_MAKE_KEY})."
    )

# SECRET_KEY, CRYPTOGRAPHY_KEY and ALLOWED_HOSTS come from base.py, read from the variables above.
from .base import *  # noqa: E402, F403
from .base import ALLOWED_HOSTS, env  # noqa: E402
from .sources import env_int  # noqa: E402

if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must list the portal's host names, not *: any Host header would "
        "then be accepted (and used in links the portal makes)."
    )

DEBUG = False

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int(env, "DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env_int(env, "DJANGO_SESSION_COOKIE_AGE", default=60 * 60 * 8, minimum=60)
