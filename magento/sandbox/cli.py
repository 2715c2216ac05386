"""Starting the sandbox from a command line: options, the banner, and serving until stopped.

Used by `python manage.py magento_sandbox` (a thin Django door) and `python -m magento.sandbox`.
Credentials come from options, then MAGENTO_SANDBOX_* environment variables, else are random
for this run; the banner prints them because this is a local demo store.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..totp import TOTP, InvalidTotpSecret, normalise_secret, secret_key
from .activity import ActivitySimulator
from .auth import OAUTH_PATH_DECODED, OAUTH_PATH_RFC5849, OAUTH_PATH_SIGNINGS, Credentials
from .server import SandboxServer
from .store import SandboxStore

CREDENTIAL_OPTIONS = (
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
    "admin_username",
    "admin_password",
    "totp_secret",
)
ENV_PREFIX = "MAGENTO_SANDBOX_"
_PATH_SIGNING_NAMES = {
    OAUTH_PATH_DECODED: 'signed decoded, "%2F" as "/" (Magento 2.4.6/2.4.7)',
    OAUTH_PATH_RFC5849: "signed as sent, RFC 5849 (Magento 2.4.8+)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox's options (shared by the Django command and `python -m magento.sandbox`)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port (0 picks a free one)")
    parser.add_argument("--base-path", default="", help='install sub-folder, e.g. "/shop"')
    parser.add_argument("--seed-customers", type=int, default=20)
    parser.add_argument("--seed-products", type=int, default=20)
    parser.add_argument("--seed-orders", type=int, default=50)
    parser.add_argument(
        "--simulate-activity",
        type=float,
        default=0,
        metavar="SECONDS",
        help="create customers, products and orders and update customers, one event every "
        "SECONDS (0: off)",
    )
    parser.add_argument("--random-seed", type=int, default=None, help="repeatable demo data")
    parser.add_argument(
        "--enable-bearer",
        action="store_true",
        help='allow the integration access token as a standalone Bearer token ("Allow OAuth '
        'Access Tokens to be used as standalone Bearer tokens" = Yes)',
    )
    parser.add_argument("--disable-2fa", action="store_true", help="no two-factor sign-in")
    parser.add_argument(
        "--admin-2fa-not-configured",
        action="store_true",
        help="two-factor sign-in is on, but the admin user has not set up Google Authenticator "
        "yet, so every admin sign-in is refused",
    )
    parser.add_argument(
        "--no-input-limits", action="store_true", help="no 300 page-size cap, no default size"
    )
    parser.add_argument(
        "--oauth-path-signing",
        choices=OAUTH_PATH_SIGNINGS,
        default=OAUTH_PATH_DECODED,
        help='how OAuth signatures cover an escaped "/", "+", "&" or "," in the path: decoded '
        '("tee%%2Fred" signed as "tee/red", Magento 2.4.6/2.4.7; the default) or rfc5849 '
        "(signed as sent, Magento 2.4.8+)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="enable /__sandbox__/ endpoints (fault injection, flags) for out-of-process tests",
    )
    parser.add_argument("--log-requests", action="store_true", help="print each request")
    for name in CREDENTIAL_OPTIONS:
        parser.add_argument(
            "--" + name.replace("_", "-"),
            default=None,
            help=f"default: ${ENV_PREFIX}{name.upper()} or random",
        )


class SandboxStartError(Exception):
    """The sandbox could not start (e.g. the port is taken); the message says what to change."""


@dataclass
class Sandbox:
    """A configured, not yet started sandbox: the server and the optional activity simulator."""

    server: SandboxServer
    activity: ActivitySimulator | None
    seeded: dict[str, int]


def build(options: dict, environ: dict | None = None) -> Sandbox:
    """Create the store (seeded) and server from parsed options; nothing is started yet."""
    environ = os.environ if environ is None else environ
    given = {
        name: options.get(name) or environ.get(ENV_PREFIX + name.upper())
        for name in CREDENTIAL_OPTIONS
    }
    if given["totp_secret"]:
        given["totp_secret"] = normalise_secret(given["totp_secret"])
        try:
            secret_key(given["totp_secret"])  # what Magento can make codes from, any length
        except InvalidTotpSecret as error:
            raise SandboxStartError(f"{error} Check --totp-secret.") from None
    store = SandboxStore(
        credentials=Credentials.generate(**given),
        random_seed=options.get("random_seed"),
        bearer_enabled=bool(options.get("enable_bearer")),
        two_factor_enabled=not options.get("disable_2fa"),
        two_factor_configured=not options.get("admin_2fa_not_configured"),
        input_limits_enabled=not options.get("no_input_limits"),
        oauth_path_signing=options.get("oauth_path_signing") or OAUTH_PATH_DECODED,
    )
    host, port = options.get("host", "127.0.0.1"), options.get("port", 8081)
    # Listen before seeding, so a taken port is reported at once, not after a long seed.
    try:
        server = SandboxServer(
            store,
            host,
            port,
            base_path=options.get("base_path") or "",
            control=bool(options.get("control")),
            log_requests=bool(options.get("log_requests")),
        )
    except OSError as error:
        raise SandboxStartError(
            f"Cannot listen on {host}:{port} ({error.strerror or error}). "
            "Choose another --port (0 picks a free one) or stop what is using it."
        ) from None
    seeded = {
        "customers": options.get("seed_customers", 20),
        "products": options.get("seed_products", 20),
        "orders": options.get("seed_orders", 50),
    }
    try:
        store.seed(**seeded)
    except BaseException:
        server.stop()
        raise
    interval = options.get("simulate_activity") or 0
    activity = ActivitySimulator(store, interval) if interval > 0 else None
    return Sandbox(server=server, activity=activity, seeded=seeded)


def banner(sandbox: Sandbox) -> str:
    """What the command prints: Store Domain and the credentials for each sign-in method."""
    server = sandbox.server
    c = server.credentials
    store = server.store
    bearer = (
        "accepted"
        if store.bearer_enabled
        else "refused, as on a default Magento 2.4.4+ (start with --enable-bearer to allow it)"
    )
    lines = [
        "Magento sandbox store (a local stand-in for demos and tests)",
        "",
        f"Store Domain:          {server.url}",
        "",
        "Integration, OAuth 1.0a (HMAC-SHA256):",
        f"  Consumer key:        {c.consumer_key}",
        f"  Consumer secret:     {c.consumer_secret}",
        f"  Access token:        {c.access_token}",
        f"  Access token secret: {c.access_token_secret}",
        f"  Escaped path characters: {_PATH_SIGNING_NAMES[store.oauth_path_signing]}",
        f"Integration access token as Bearer token: {bearer}",
        "",
        "Admin account (admin token sign-in):",
        f"  Username:            {c.admin_username}",
        f"  Password:            {c.admin_password}",
    ]
    if store.two_factor_enabled and not store.two_factor_configured:
        lines.append(
            "  2FA:                 required, but not set up for this admin, so sign-in is refused"
        )
    elif store.two_factor_enabled:
        uri = TOTP(c.totp_secret).provisioning_uri(
            name=c.admin_username, issuer_name="Magento sandbox"
        )
        lines += [
            f"  2FA (Google Authenticator) secret: {c.totp_secret}",
            f"  2FA setup URI:       {uri}",
        ]
    else:
        lines.append("  2FA:                 off")
    seeded = sandbox.seeded
    lines += [
        "",
        f"Demo data: {seeded['customers']} customers, {seeded['products']} products, "
        f"{seeded['orders']} orders.",
    ]
    if sandbox.activity is not None:
        lines.append(
            f"Activity: one new customer, product, order or customer update every "
            f"{sandbox.activity.interval:g} s."
        )
    if server.control:
        lines.append(f"Control endpoints: {server.url}/__sandbox__/state and /__sandbox__/faults")
    lines += ["", "Serving until stopped (Ctrl+C, or SIGTERM)."]
    return "\n".join(lines)


def serve(
    sandbox: Sandbox,
    *,
    write: Callable[[str], None],
    stop_event: threading.Event | None = None,
    ready: Callable[[SandboxServer], None] | None = None,
) -> None:
    """Print the banner and serve until Ctrl+C, SIGTERM, or until `stop_event` is set.

    `write` must deliver each text at once (flush it): a supervisor reading a pipe waits for
    the banner to learn the Store Domain.
    """
    stop = stop_event or threading.Event()
    server = sandbox.server
    server.start()
    if sandbox.activity is not None:
        sandbox.activity.start()
    try:
        with _stop_on_sigterm(stop):
            write(banner(sandbox))
            if ready is not None:
                ready(server)
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how a demo ends
                stop.wait()
            write("Stopping.")
    finally:
        if sandbox.activity is not None:
            sandbox.activity.stop()
        server.stop()


@contextlib.contextmanager
def _stop_on_sigterm(stop: threading.Event):
    """While serving, SIGTERM and Ctrl+C (SIGINT) set `stop` (a clean stop) instead of killing
    the process mid-answer, or raising KeyboardInterrupt wherever the main thread happens to be
    (even while it writes the banner); signals can only be caught in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signum: signal.signal(signum, lambda _signum, _frame: stop.set())
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> None:
    """`python -m magento.sandbox [options]`."""
    parser = argparse.ArgumentParser(prog="python -m magento.sandbox", description=__doc__)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        sandbox = build(options)
    except SandboxStartError as error:
        parser.exit(1, f"{error}\n")
    serve(sandbox, write=functools.partial(print, flush=True))
