"""The connection form in a real browser: only the chosen method's fields are shown."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_form_shows_only_the_fields_of_the_chosen_method(
    transactional_db, page, admin_login, live_server, editor
):
    admin_login(editor)
    page.goto(f"{live_server.url}/admin/connections/connection/add/")
    # Integration Token is the default choice.
    assert page.is_checked("input[name=auth_method][value=integration_token]")
    assert page.is_visible("#id_access_token")
    assert page.is_visible("#id_consumer_key")
    assert not page.is_visible("#id_admin_username")
    assert not page.is_visible("#id_admin_password")

    page.check("input[name=auth_method][value=session]")
    assert page.is_visible("#id_admin_username")
    assert page.is_visible("#id_totp_secret")
    assert not page.is_visible("#id_access_token")

    page.check("input[name=auth_method][value=integration_token]")
    assert page.is_visible("#id_access_token")
    assert not page.is_visible("#id_admin_password")


def test_chosen_method_stays_shown_after_a_validation_error(
    transactional_db, page, admin_login, live_server, editor
):
    admin_login(editor)
    page.goto(f"{live_server.url}/admin/connections/connection/add/")
    page.fill("#id_name", "Browser store")
    page.fill("#id_store_domain", "localhost")
    page.check("input[name=auth_method][value=session]")
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")
    text = page.content()
    assert "Enter the Magento admin user name." in text
    assert "loopback" in text
    assert page.is_visible("#id_admin_username")
    assert not page.is_visible("#id_access_token")
    # The secret inputs are password fields: nothing typed is shown.
    assert page.get_attribute("#id_admin_password", "type") == "password"
