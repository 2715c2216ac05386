"""Settings shared by every environment.

Everything a deployment may change comes from environment variables (or an optional `.env` file in
the project folder; real environment variables win). The defaults run the whole portal on one
machine with no configuration: SQLite in `DATA_DIR` and the Django-Q2 ORM broker.
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.signals import connection_created

from .sources import (
    BASE_DIR,
    env_int,
    local_secret,
    make_sqlite_files_private,
    project_path,
    settings_env,
)

# os.environ after the env file; for the test settings, their own fixed variables only.
env = settings_env()

# Absolute (a relative one is taken from the project folder, not the working directory), so the
# web server and the worker open the same files whatever folder they start in.
DATA_DIR = project_path(env.str("DATA_DIR", default="var"))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Without the variables (local and test runs), random secrets are generated once into DATA_DIR.
# Production never gets there: it requires the variables.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or local_secret(DATA_DIR, "secret_key")
# django-cryptography derives its encryption key from this (and signs with SECRET_KEY).
CRYPTOGRAPHY_KEY = env.str("CRYPTOGRAPHY_KEY", default="") or local_secret(
    DATA_DIR, "cryptography_key"
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Stores on a private network (and the sandbox store) need this; off, such addresses are refused.
ALLOW_PRIVATE_NETWORK_TARGETS = env.bool("ALLOW_PRIVATE_NETWORK_TARGETS", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "connections",
    "automations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_sqlite_default = f"sqlite:///{DATA_DIR / 'portal.sqlite3'}"
DATABASES = {"default": env.db("DATABASE_URL", default=_sqlite_default)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, plus making the file's folder when the database is first opened.
    DATABASES["default"]["ENGINE"] = "config.sqlite"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait (busy timeout)
            # instead of failing with "database is locked" when a read turns into a write.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
            ),
        }
    )
    # A relative sqlite path would depend on the working directory.
    _name = DATABASES["default"]["NAME"]
    if _name and _name != ":memory:" and not Path(_name).is_absolute():
        DATABASES["default"]["NAME"] = str(project_path(_name))
    # Sessions and password hashes: the database file and SQLite's -wal/-shm are owner-only.
    connection_created.connect(make_sqlite_files_private, dispatch_uid="sqlite_files_private")
else:
    DATABASES["default"].setdefault(
        "CONN_MAX_AGE", env_int(env, "DATABASE_CONN_MAX_AGE", default=60)
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "admin:login"

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one user name, or
# from one address, further logins for it are refused for LOGIN_LOCKOUT_MINUTES. The two are
# counted separately, so guessing many passwords for one user and trying one password on many
# users are both stopped. A success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password"]
# Behind TRUSTED_PROXY_COUNT reverse proxies the client's address is the one the outermost
# trusted proxy saw (X-Forwarded-For, counted from the right); with none, the connection's own.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Files of the portal as a whole (the favicon); each app keeps its own in <app>/static/.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))

# Django-Q2: the ORM broker needs nothing but the database; REDIS_URL switches to Redis so several
# worker machines share one queue.
Q_CLUSTER = {
    "name": "portal",
    "workers": env_int(env, "Q_WORKERS", default=2, minimum=1),
    # A task may run this long before the worker is killed; it must stay below `retry`, or a task
    # still running would be handed to a second worker (checked below).
    "timeout": env_int(env, "Q_TIMEOUT", default=240, minimum=1),
    "retry": env_int(env, "Q_RETRY", default=300, minimum=1),
    # A worker that was down polls once when it comes back, not once per missed slot.
    "catch_up": False,
    # Failed tasks are acknowledged: our own run tables hold history and retries, not re-delivery.
    "ack_failures": True,
    "max_attempts": 1,
    "save_limit": env_int(env, "Q_SAVE_LIMIT", default=1000),
    "label": "Background tasks",
    "orm": "default",
}
# Action runs: a transient failure (rate limit, store down, timeout) is tried again after
# RETRY_BASE x 2^(attempt-1) seconds (or the store's Retry-After), up to MAX_ATTEMPTS tries.
ACTION_RUN_MAX_ATTEMPTS = env.int("ACTION_RUN_MAX_ATTEMPTS", default=5)
ACTION_RUN_RETRY_BASE_SECONDS = env.int("ACTION_RUN_RETRY_BASE_SECONDS", default=30)
ACTION_RUN_RETRY_MAX_SECONDS = env.int("ACTION_RUN_RETRY_MAX_SECONDS", default=3600)
# A run still waiting this long after it was queued is queued again (its task was lost).
ACTION_RUN_REQUEUE_AFTER_SECONDS = env.int("ACTION_RUN_REQUEUE_AFTER_SECONDS", default=900)
# A worker task executes the runs of up to RUN_BATCH_EVENTS events together (their bookkeeping
# shared), starts no step after RUN_TASK_SECONDS (a quarter of the task timeout: one step may
# still take the store's timeout) and queues what is left; a read's result waits at most
# RUN_RESULTS_FLUSH_SECONDS to be written with others (a write's is written at once).
RUN_BATCH_EVENTS = env_int(env, "RUN_BATCH_EVENTS", default=50, minimum=1)
RUN_TASK_SECONDS = max(1, Q_CLUSTER["timeout"] // 4)
RUN_RESULTS_FLUSH_SECONDS = 0.5
# Run history: trigger events and action runs older than this are deleted by a daily task
# (in small batches); 0 keeps them forever.
RUN_RETENTION_DAYS = env_int(env, "RUN_RETENTION_DAYS", default=90, minimum=0)
# Alerts: e-mail the staff who asked for them after this many failed polls in a row, at most
# once an hour per automation. PORTAL_URL (e.g. https://portal.example.com) makes the links in
# them absolute.
ALERT_POLL_FAILURES = env_int(env, "ALERT_POLL_FAILURES", default=3, minimum=1)
ALERT_INTERVAL_MINUTES = env_int(env, "ALERT_INTERVAL_MINUTES", default=60, minimum=1)
PORTAL_URL = env.str("PORTAL_URL", default="").rstrip("/")
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured(
        f"Q_TIMEOUT ({Q_CLUSTER['timeout']}) must be below Q_RETRY ({Q_CLUSTER['retry']}): "
        "otherwise a task still running is handed to a second worker."
    )
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = REDIS_URL

# E-mail (alerts): printed on the console unless a real backend is configured, e.g.
# DJANGO_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with DJANGO_EMAIL_HOST ...
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env_int(env, "DJANGO_EMAIL_PORT", default=25, minimum=1)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="portal@localhost")

# Forms that take credentials are marked with sensitive_post_parameters: their values stay out
# of error reports and of the debug 500 page.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.CredentialsAlwaysHiddenFilter"

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # django-axes says hello on every start and logs each failed login as a warning.
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
