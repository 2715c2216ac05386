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

# SECRET_KEY, CRYPTOGRAPHY_KEY and ALLOWED_HOSTS come from base.py, read from the variables above.
from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = False

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=60 * 60 * 8)
