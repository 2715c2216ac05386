"""Every diagnosis over real HTTP against the sandbox store on 127.0.0.1."""

from __future__ import annotations

import copy

import pytest

from connections import diagnosis as dx
from connections.clients import connection_client
from connections.forms import ConnectionForm
from connections.models import Connection, ConnectionStatus
from connections.services import connection_create, connection_update
from connections.verification import ALL_PROBES, connection_check
from connections.verification import connection_verify as verify
from magento.errors import BlockedAddressError, InvalidCredentialsError, SignInWithheldError
from magento.sandbox import DEFAULT_GRANTS, Credentials, acl_selection
from tests.connections.helpers import assert_no_secret

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_network_allowed(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


def token(server, **extra):
    fields = {
        "name": "Sandbox",
        "store_domain": server.url,
        "auth_method": "integration_token",
        "access_token": server.credentials.access_token,
    }
    fields.update(extra)
    return fields


def oauth(server, **extra):
    c = server.credentials
    values = {
        "consumer_key": c.consumer_key,
        "consumer_secret": c.consumer_secret,
        "access_token_secret": c.access_token_secret,
    }
    values.update(extra)
    return token(server, **values)


def session(server, **extra):
    fields = {
        "name": "Sandbox",
        "store_domain": server.url,
        "auth_method": "session",
        "admin_username": server.credentials.admin_username,
        "admin_password": server.credentials.admin_password,
    }
    fields.update(extra)
    return fields


def check(**fields):
    return connection_check(connection=Connection(**fields))


def test_bearer_token_verified_with_store_facts(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    result = check(**token(server))
    assert result.ok, result.diagnosis.as_text()
    assert result.store.base_url.startswith(server.url)
    assert result.store.timezone and result.store.currency


def test_bearer_switched_off_is_reported_with_the_oauth_way_out(sandbox_factory):
    server = sandbox_factory(bearer_enabled=False)
    diagnosis = check(**token(server)).diagnosis
    assert diagnosis.code == dx.TOKEN_REJECTED
    assert any(link.anchor == "bearer-setting" for link in diagnosis.links)
    assert any(link.anchor == "oauth" for link in diagnosis.links)


def test_oauth_works_with_bearer_switched_off(sandbox_factory):
    server = sandbox_factory(bearer_enabled=False)
    result = check(**oauth(server))
    assert result.ok, result.diagnosis.as_text()


def test_wrong_token(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    diagnosis = check(**token(server, access_token="x" * 32)).diagnosis
    assert diagnosis.code == dx.TOKEN_REJECTED


def test_wrong_oauth_secret(sandbox_factory):
    server = sandbox_factory()
    diagnosis = check(**oauth(server, consumer_secret="y" * 32)).diagnosis
    assert diagnosis.code == dx.OAUTH_REJECTED


def test_missing_resources_are_named(sandbox_factory):
    grants = DEFAULT_GRANTS - acl_selection("Magento_Sales::sales")
    server = sandbox_factory(bearer_enabled=True, granted_resources=grants)
    result = check(**token(server))
    assert result.diagnosis.code == dx.PERMISSIONS_MISSING
    assert "Orders" in result.diagnosis.explanation
    assert "Shipments" in result.diagnosis.explanation
    assert result.permissions["customers"] == "ok"
    assert result.permissions["orders"] == "denied"
    assert result.permissions["orders_ship"] == "denied"


# Each write permission withheld on its own (the role keeps everything else): the check names
# the ACL resource, and marks only the probes that need it as denied.
WITHHELD = [
    ("Magento_Customer::manage", {"customers_update"}, "update customers"),
    ("Magento_Catalog::products", {"products", "products_save"}, "save products"),
    ("Magento_Sales::ship", {"orders_ship"}, "ship orders"),
]


@pytest.mark.parametrize(("resource", "denied", "use"), WITHHELD)
@pytest.mark.parametrize("method", ["oauth", "session"])
def test_each_write_permission_withheld_is_named(sandbox_factory, resource, denied, use, method):
    server = sandbox_factory(
        two_factor_enabled=False,
        granted_resources=DEFAULT_GRANTS - {resource},
        admin_role_resources=DEFAULT_GRANTS - {resource},
    )
    result = check(**(oauth(server) if method == "oauth" else session(server)))
    assert result.diagnosis.code == dx.PERMISSIONS_MISSING, result.diagnosis.as_text()
    assert f"({resource}) to " in result.diagnosis.explanation
    assert use in result.diagnosis.explanation
    assert {k for k, v in result.permissions.items() if v == "denied"} == denied
    assert {k for k, v in result.permissions.items() if v == "ok"} == (
        set(result.permissions) - denied
    )


def test_every_permission_granted_including_writes(sandbox_factory):
    server = sandbox_factory()
    result = check(**oauth(server))
    assert result.ok, result.diagnosis.as_text()
    assert set(result.permissions) == {p.key for p in ALL_PROBES}
    assert set(result.permissions.values()) == {"ok"}


def store_data(server) -> dict:
    """Everything the sandbox holds that a write could change."""
    store = server.store
    with store.lock:
        return copy.deepcopy(
            {
                "customers": store.customers.rows,
                "products": store.products.rows,
                "orders": store.orders.rows,
                "shipments": store.shipments,
            }
        )


@pytest.mark.parametrize("grants", ["all", "none of the writes"])
def test_no_probe_changes_any_store_data(sandbox_factory, grants):
    withheld = {"Magento_Customer::manage", "Magento_Sales::ship"} if grants != "all" else set()
    server = sandbox_factory(granted_resources=DEFAULT_GRANTS - withheld)
    before = store_data(server)
    result = check(**oauth(server))
    assert result.ok == (grants == "all"), result.diagnosis.as_text()
    assert store_data(server) == before
    assert server.state()["counts"]["shipments"] == 0


def test_session_without_two_factor(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=False)
    result = check(**session(server))
    assert result.ok, result.diagnosis.as_text()


def test_wrong_admin_password(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=False)
    diagnosis = check(**session(server, admin_password="wrong-password-1")).diagnosis
    assert diagnosis.code == dx.ADMIN_SIGNIN_REJECTED


def test_locked_admin_account(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=False)
    outcome = connection_create(
        **session(server, admin_password="wrong-password-1"), save_unverified=True
    )
    connection = outcome.connection
    codes = [outcome.verification.diagnosis.code]
    for _ in range(dx.LOCKOUT_AFTER_FAILURES - 1):
        codes.append(verify(connection=connection).diagnosis.code)
    assert codes[:-1] == [dx.ADMIN_SIGNIN_REJECTED] * (dx.LOCKOUT_AFTER_FAILURES - 1)
    assert codes[-1] == dx.ADMIN_LOCKED
    # The store now refuses even the right password; the diagnosis stays "locked".
    connection.admin_password = server.credentials.admin_password
    connection.save()
    assert verify(connection=connection).diagnosis.code == dx.ADMIN_LOCKED


def test_two_factor_required(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=True)
    assert check(**session(server)).diagnosis.code == dx.TWO_FACTOR_REQUIRED


def test_two_factor_with_totp_secret(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=True)
    result = check(**session(server, totp_secret=server.credentials.totp_secret))
    assert result.ok, result.diagnosis.as_text()


def test_two_factor_not_set_up_by_the_admin(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=True, two_factor_configured=False)
    diagnosis = check(**session(server)).diagnosis
    assert diagnosis.code == dx.TWO_FACTOR_NOT_CONFIGURED
    assert "configure personal Two-Factor Authorization" in diagnosis.detail


def test_two_factor_not_set_up_by_the_admin_with_a_totp_secret(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=True, two_factor_configured=False)
    diagnosis = check(**session(server, totp_secret=server.credentials.totp_secret)).diagnosis
    assert diagnosis.code == dx.TWO_FACTOR_NOT_CONFIGURED
    assert "Provider is not configured." in diagnosis.detail


def test_form_verifies_an_admin_with_an_80_bit_totp_secret(sandbox_factory):
    # Magento's set-secret takes 16 base32 characters; the form used to call this "an
    # unexpected answer" without asking the store.
    server = sandbox_factory(credentials=Credentials.generate(totp_secret="JBSWY3DPEHPK3PXP"))
    form = ConnectionForm(
        data={
            **session(server, totp_secret="JBSW Y3DP EHPK 3PXP"),
            "allow_plain_http": "on",
            "store_code": "all",
            "verify_tls": "on",
            "timeout_seconds": "30",
        }
    )
    assert form.is_valid(), form.errors
    assert form.verification.ok, form.verification.diagnosis.as_text()
    # The service path too, with the secret as an app shows it; it is saved normalised.
    outcome = connection_create(**session(server, totp_secret="jbswy3dpehpk3pxp"))
    assert outcome.connection.totp_secret == "JBSWY3DPEHPK3PXP"
    assert outcome.connection.status == ConnectionStatus.VERIFIED


def test_form_puts_an_invalid_totp_secret_on_its_field_without_asking_the_store(sandbox_factory):
    server = sandbox_factory(credentials=Credentials.generate(totp_secret="JBSWY3DPEHPK3PXP"))
    form = ConnectionForm(
        data={
            **session(server, totp_secret="JBSWY3DPEHPK3PX1"),
            "allow_plain_http": "on",
            "store_code": "all",
            "verify_tls": "on",
            "timeout_seconds": "30",
        }
    )
    assert not form.is_valid()
    assert list(form.errors) == ["totp_secret"]
    assert "letters A-Z and digits 2-7" in form.errors["totp_secret"][0]
    assert form.verification is None


def test_wrong_totp_secret(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=True)
    diagnosis = check(**session(server, totp_secret="JBSWY3DPEHPK3PXPJBSWY3DP")).diagnosis
    assert diagnosis.code == dx.TWO_FACTOR_CODE_REJECTED


def test_unknown_store_code(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    diagnosis = check(**token(server, store_code="fr")).diagnosis
    assert diagnosis.code == dx.STORE_CODE_UNKNOWN


def test_known_store_code(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    assert check(**token(server, store_code="default")).ok


def test_not_a_magento_store(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True, base_path="/shop")
    root = server.url.removesuffix("/shop")
    diagnosis = check(**token(server, store_domain=root)).diagnosis
    assert diagnosis.code == dx.NOT_MAGENTO


def test_sub_folder_store(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True, base_path="/shop")
    assert check(**token(server)).ok


def test_maintenance(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    server.faults.add("maintenance")
    assert check(**token(server)).diagnosis.code == dx.MAINTENANCE


def test_store_error(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    server.faults.add("server_error")
    assert check(**token(server)).diagnosis.code == dx.STORE_ERROR


def test_redirected_to_https(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    server.faults.add("redirect", path="/V1/store/storeConfigs")
    diagnosis = check(**token(server)).diagnosis
    assert diagnosis.code == dx.REDIRECTED
    # The same address on https://, named so the shop owner can type it as Store Domain.
    location = diagnosis.facts["location"]
    assert location.startswith(server.url.replace("http://", "https://", 1) + "/rest/")
    assert location.endswith("/V1/store/storeConfigs")
    assert location in diagnosis.explanation


def test_firewall_in_front_of_the_store(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    server.faults.add("firewall", path="/V1/store/storeConfigs")
    diagnosis = check(**token(server)).diagnosis
    assert diagnosis.code == dx.ACCESS_BLOCKED
    assert "Access denied" in diagnosis.detail


def test_connection_refused(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    fields = token(server)
    server.stop()
    assert check(**fields).diagnosis.code == dx.CONNECTION_FAILED


def test_tls_error_when_the_server_speaks_plain_http(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    fields = token(server, store_domain=server.url.replace("http://", "https://"))
    assert check(**fields).diagnosis.code == dx.TLS_ERROR


def test_private_address_refused_without_the_setting(sandbox_factory, settings):
    server = sandbox_factory(bearer_enabled=True)
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = False
    assert check(**token(server)).diagnosis.code == dx.PRIVATE_ADDRESS


def test_client_refuses_private_peer_when_connecting(sandbox_factory, settings, make_connection):
    # A name that resolved to a public address when saved now resolves to 127.0.0.1.
    server = sandbox_factory(bearer_enabled=True)
    connection = make_connection(
        store_domain=f"http://rebind.example.com:{server.port}", allow_plain_http=True
    )
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = False
    with (
        connection_client(connection, max_retries=0) as client,
        pytest.raises(BlockedAddressError),
    ):
        client.request("GET", "/V1/store/storeConfigs", store_code=None)


def test_verified_connection_saved_and_secrets_not_in_record(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    outcome = connection_create(**oauth(server))
    assert outcome.saved
    connection = Connection.objects.get()
    assert connection.status == ConnectionStatus.VERIFIED
    record = " ".join(
        str(getattr(connection, f))
        for f in ("last_error_message", "base_url", "timezone", "currency", "permission_results")
    )
    for value in server.credentials.as_dict().values():
        if len(value) > 6:
            assert value not in record
    assert_no_secret(record)


def test_check_signs_in_again_and_shares_the_token(sandbox_factory, make_connection):
    server = sandbox_factory(two_factor_enabled=False)
    connection = make_connection(**session(server))
    assert verify(connection=connection).ok
    connection.refresh_from_db()
    first = connection.admin_token
    assert first
    # A check always proves the password: it signs in again instead of trusting the cache.
    assert verify(connection=connection).ok
    connection.refresh_from_db()
    assert connection.admin_token and connection.admin_token != first
    cached = connection.admin_token
    # Automations reuse the shared token: no new sign-in for ordinary calls.
    with connection_client(connection) as client:
        client.request("GET", "/V1/store/storeConfigs", store_code=None)
    connection.refresh_from_db()
    assert connection.admin_token == cached


def test_check_notices_a_wrong_password_despite_a_cached_token(sandbox_factory, make_connection):
    server = sandbox_factory(two_factor_enabled=False)
    connection = make_connection(**session(server))
    assert verify(connection=connection).ok
    connection.admin_password = "not-the-password"
    connection.save()
    assert verify(connection=connection).diagnosis.code == dx.ADMIN_SIGNIN_REJECTED


def test_rate_limited(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    server.faults.add("rate_limit")
    assert check(**token(server)).diagnosis.code == dx.RATE_LIMITED


def test_dropped_connection(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    server.faults.add("drop_connection")
    assert check(**token(server)).diagnosis.code == dx.CONNECTION_FAILED


def test_malformed_answer_is_not_magento(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    server.faults.add("malformed_json")
    assert check(**token(server)).diagnosis.code == dx.NOT_MAGENTO


def test_name_that_does_not_resolve_to_the_sandbox(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    fields = token(server, store_domain=f"http://nowhere.example.com:{server.port}")
    assert check(**fields).diagnosis.code == dx.DNS_FAILED


def test_revoked_bearer_token(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    server.change_state(integration_revoked=True)
    diagnosis = check(**token(server)).diagnosis
    assert diagnosis.code == dx.TOKEN_REJECTED
    assert any(link.anchor == "activate" for link in diagnosis.links)


def test_revoked_oauth_credentials(sandbox_factory):
    server = sandbox_factory()
    server.change_state(integration_revoked=True)
    diagnosis = check(**oauth(server)).diagnosis
    assert diagnosis.code == dx.OAUTH_REJECTED
    assert "revoked" in diagnosis.detail


def test_oauth_token_of_the_wrong_length(sandbox_factory):
    # Magento refuses a malformed OAuth token with a 400 input error rather than a 401.
    server = sandbox_factory()
    diagnosis = check(**oauth(server, access_token="short-token-1234")).diagnosis
    assert diagnosis.code == dx.OAUTH_REJECTED
    assert "token length" in diagnosis.detail


def test_store_that_does_not_answer_in_time(sandbox_factory):
    import threading

    server = sandbox_factory(bearer_enabled=True)
    released = threading.Event()
    # The store holds the request until the test ends; the client gives up after its read
    # timeout (shortened here, so the test waits a fraction of a second, not the 30 s default).
    server.sleep = lambda seconds: released.wait()
    server.faults.add("latency", seconds=60)
    try:
        connection = Connection(**token(server, timeout_seconds=5))
        diagnosis = connection_check(connection=connection, read_timeout=0.2).diagnosis
    finally:
        released.set()
    assert diagnosis.code == dx.TIMEOUT
    assert "5 seconds" in diagnosis.explanation


def test_no_credential_in_any_log_over_real_http(sandbox_factory, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    server = sandbox_factory(two_factor_enabled=True)
    outcome = connection_create(**oauth(server, name="Signed"))
    assert outcome.verification.ok
    outcome = connection_create(**session(server, totp_secret=server.credentials.totp_secret))
    assert outcome.verification.ok
    assert verify(connection=outcome.connection).ok
    # A refused sign-in logs too; its password must not appear either.
    check(**session(server, name="Wrong", admin_password="Wrong-Password-123"))
    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    assert "urllib3" in logged  # the transport's own debug lines were captured
    secrets = [v for k, v in server.credentials.as_dict().items() if k != "admin_username"]
    admin_token = Connection.objects.get(pk=outcome.connection.pk).admin_token
    assert admin_token
    secrets += ["Wrong-Password-123", admin_token]
    for value in secrets:
        assert value not in logged


def test_totp_secret_for_a_store_without_two_factor(sandbox_factory):
    # Magento without its 2FA module has no route to sign in with a code.
    server = sandbox_factory(two_factor_enabled=False)
    diagnosis = check(**session(server, totp_secret=server.credentials.totp_secret)).diagnosis
    assert diagnosis.code == dx.TWO_FACTOR_NOT_USED
    assert diagnosis.guide_url == "/connections/guide/session/#two-factor"


def test_tls_error_for_an_address_typed_without_a_scheme_suggests_http(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True)
    typed = server.url.removeprefix("http://")  # "127.0.0.1:<port>": the portal assumes https
    diagnosis = check(**token(server, store_domain=typed)).diagnosis
    assert diagnosis.code == dx.TLS_ERROR
    assert "type http:// in front" in diagnosis.explanation
    # Typed with https:// on purpose: the certificate itself is the problem, no such hint.
    typed_https = check(**token(server, store_domain=f"https://{typed}")).diagnosis
    assert "type http:// in front" not in typed_https.explanation


def test_unattended_sign_ins_stop_after_a_refusal_so_the_admin_is_never_locked(
    sandbox_factory, make_connection, caplog
):
    # Workers build a client per task. With a wrong saved password, task after task must not
    # knock again: six refusals would lock the admin account for 30 minutes.
    server = sandbox_factory(two_factor_enabled=False)
    connection = make_connection(**session(server, admin_password="an-old-password"))
    errors = []
    for _ in range(8):
        with (
            connection_client(connection, max_retries=0) as client,
            pytest.raises(InvalidCredentialsError) as refused,
        ):
            client.request("GET", "/V1/store/storeConfigs", store_code=None)
        errors.append(refused.value)
    assert type(errors[0]) is InvalidCredentialsError
    assert all(type(error) is SignInWithheldError for error in errors[1:])
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.FAILED
    assert connection.last_error_code == dx.ADMIN_SIGNIN_REJECTED
    assert "does not sign in with these credentials again on its own" in (
        connection.last_error_message
    )
    assert connection.sign_in_refused_at is not None
    assert connection.consecutive_signin_failures == 1
    assert "an-old-password" not in caplog.text + connection.last_error_message

    # A person tests the connection: that signs in once more (and is refused once more).
    assert verify(connection=connection).diagnosis.code == dx.ADMIN_SIGNIN_REJECTED
    # Saving the right password verifies it; the account was never locked, so it works at once.
    outcome = connection_update(
        connection=connection, changes={"admin_password": server.credentials.admin_password}
    )
    assert outcome.verification.ok
    connection.refresh_from_db()
    assert connection.sign_in_refused_at is None
    assert connection.sign_in_refusal == ""
    with connection_client(connection, max_retries=0) as client:
        assert client.request("GET", "/V1/store/storeConfigs", store_code=None)


def test_saving_without_a_check_lets_the_next_task_try_the_saved_password(
    sandbox_factory, make_connection
):
    server = sandbox_factory(two_factor_enabled=False)
    connection = make_connection(**session(server, admin_password="an-old-password"))
    assert verify(connection=connection).diagnosis.code == dx.ADMIN_SIGNIN_REJECTED
    connection.refresh_from_db()
    assert connection.sign_in_refused_at is not None
    with connection_client(connection) as client, pytest.raises(SignInWithheldError):
        client.request("GET", "/V1/store/storeConfigs", store_code=None)
    connection_update(
        connection=connection,
        changes={"admin_password": server.credentials.admin_password},
        verify=False,
    )
    connection.refresh_from_db()
    assert connection.sign_in_refused_at is None
    with connection_client(connection) as client:
        assert client.request("GET", "/V1/store/storeConfigs", store_code=None)
    connection.refresh_from_db()
    assert connection.admin_token


def test_a_late_refusal_of_old_credentials_does_not_pause_the_ones_saved_since(
    sandbox_factory, make_connection
):
    server = sandbox_factory(two_factor_enabled=False)
    connection = make_connection(**session(server, admin_password="an-old-password"))
    # A worker builds its client with the old password; meanwhile a person saves the right one.
    worker = connection_client(connection, max_retries=0)
    saved = Connection.objects.get(pk=connection.pk)
    connection_update(
        connection=saved,
        changes={"admin_password": server.credentials.admin_password},
        verify=False,
    )
    with worker, pytest.raises(InvalidCredentialsError):
        worker.request("GET", "/V1/store/storeConfigs", store_code=None)
    saved.refresh_from_db()
    assert saved.sign_in_refused_at is None
    assert saved.status == ConnectionStatus.UNVERIFIED
    with connection_client(saved, max_retries=0) as client:
        assert client.request("GET", "/V1/store/storeConfigs", store_code=None)


def test_a_check_that_never_reached_the_sign_in_keeps_the_pause(sandbox_factory, make_connection):
    server = sandbox_factory(two_factor_enabled=False)
    connection = make_connection(**session(server, admin_password="an-old-password"))
    assert verify(connection=connection).diagnosis.code == dx.ADMIN_SIGNIN_REJECTED
    server.faults.add("drop_connection", times=5)
    assert verify(connection=connection).diagnosis.code != dx.ADMIN_SIGNIN_REJECTED
    connection.refresh_from_db()
    assert connection.sign_in_refused_at is not None
    assert connection.consecutive_signin_failures == 1


def test_a_check_of_credentials_replaced_meanwhile_is_not_recorded(
    sandbox_factory, make_connection
):
    server = sandbox_factory(two_factor_enabled=False)
    stale = make_connection(**session(server, admin_password="an-old-password"))
    # Someone saves new credentials while the stale object's check is running.
    Connection.objects.filter(pk=stale.pk).update(
        credentials_version=stale.credentials_version + 1, status=ConnectionStatus.UNVERIFIED
    )
    assert verify(connection=stale).diagnosis.code == dx.ADMIN_SIGNIN_REJECTED
    row = Connection.objects.get(pk=stale.pk)
    assert row.status == ConnectionStatus.UNVERIFIED
    assert row.sign_in_refused_at is None
    assert row.last_error_code == ""


def test_a_worker_refused_on_its_two_factor_code_says_so(sandbox_factory, make_connection):
    server = sandbox_factory(two_factor_enabled=True)
    connection = make_connection(
        **session(server, totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")  # not the store's
    )
    for _ in range(3):
        with (
            connection_client(connection, max_retries=0) as client,
            pytest.raises(InvalidCredentialsError),
        ):
            client.request("GET", "/V1/store/storeConfigs", store_code=None)
    connection.refresh_from_db()
    assert connection.last_error_code == dx.TWO_FACTOR_CODE_REJECTED
    assert connection.sign_in_refusal == "Invalid code."
    assert connection.consecutive_signin_failures == 1


def test_saving_a_form_keeps_what_workers_recorded_meanwhile(sandbox_factory, make_connection):
    server = sandbox_factory(two_factor_enabled=False)
    connection = make_connection(**session(server, admin_password="an-old-password"))
    form_copy = Connection.objects.get(pk=connection.pk)  # read when the form opened
    with (
        connection_client(connection, max_retries=0) as client,
        pytest.raises(InvalidCredentialsError),
    ):
        client.request("GET", "/V1/store/storeConfigs", store_code=None)
    connection_update(connection=form_copy, changes={"name": "Renamed"}, verify=False)
    row = Connection.objects.get(pk=connection.pk)
    assert row.name == "Renamed"
    assert row.consecutive_signin_failures == 1  # the worker's refusal is still counted
    assert row.sign_in_refused_at is None  # a person saved: the next task may try again
    assert row.credentials_version == connection.credentials_version + 1
