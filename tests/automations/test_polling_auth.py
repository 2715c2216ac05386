"""Polling and the store's sign-in: a session renews its admin token mid-backlog, and a refusal
that survives renewal marks the connection as failing, as the connection check does."""

from __future__ import annotations

import pytest

from automations.models import TriggerEvent
from connections import diagnosis as dx
from connections.models import AuthMethod, ConnectionStatus
from magento.resources._base import Resource

pytestmark = pytest.mark.django_db

SIGN_IN = ("POST", "/V1/tfa/provider/google/authenticate")


@pytest.fixture
def session_connection(make_connection, shop):
    c = shop.credentials
    return make_connection(
        name="Sandbox admin",
        store_domain=shop.url,
        auth_method=AuthMethod.SESSION,
        admin_username=c.admin_username,
        admin_password=c.admin_password,
        totp_secret=c.totp_secret,
    )


def test_an_admin_token_expiring_mid_backlog_is_renewed_and_the_walk_goes_on(
    shop, session_connection, make_automation, poll, monkeypatch
):
    shop.store.seed(orders=500)
    automation = make_automation(connection=session_connection, options={"start": "all"})
    real_search = Resource.search
    pages = []

    def search_and_expire(self, *args, **kwargs):
        answer = real_search(self, *args, **kwargs)
        pages.append(1)
        if len(pages) == 2:
            shop.change_state(expire_admin_tokens=True)
        return answer

    monkeypatch.setattr(Resource, "search", search_and_expire)
    result = poll(automation, page_size=100)
    assert result.ok and result.new_events == 500 and not result.more
    assert list(shop.requests).count(SIGN_IN) == 2  # the first sign-in and one renewal
    assert TriggerEvent.objects.count() == 500
    session_connection.refresh_from_db()
    assert session_connection.status == ConnectionStatus.VERIFIED


def test_a_revoked_integration_marks_the_connection_failing(
    shop, shop_connection, make_automation, poll
):
    automation = make_automation()
    shop.change_state(integration_revoked=True)
    result = poll(automation)
    assert not result.ok and "credentials" in result.error
    shop_connection.refresh_from_db()
    assert shop_connection.status == ConnectionStatus.FAILED
    assert shop_connection.last_error_code == dx.OAUTH_REJECTED
    # Once failing, later polls do not check the connection again and again.
    before = len(shop.requests)
    assert not poll(automation).ok
    assert len(shop.requests) - before == 1


def test_a_refused_admin_password_pauses_sign_ins_and_polls_do_not_retry_it(
    shop, make_connection, make_automation, poll
):
    c = shop.credentials
    wrong = make_connection(
        name="Wrong password",
        store_domain=shop.url,
        auth_method=AuthMethod.SESSION,
        admin_username=c.admin_username,
        admin_password="not-the-password",
        totp_secret=c.totp_secret,
    )
    automation = make_automation(connection=wrong)
    assert not poll(automation).ok
    wrong.refresh_from_db()
    assert wrong.status == ConnectionStatus.FAILED and wrong.sign_in_refused_at
    before = len(shop.requests)
    again = poll(automation)
    assert not again.ok and "refused" in again.error
    assert len(shop.requests) == before  # no sign-in attempt: no step towards a lockout
