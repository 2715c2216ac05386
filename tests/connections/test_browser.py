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


def test_shop_owner_adds_a_sandbox_store_in_the_browser(
    transactional_db, page, admin_login, live_server, editor, sandbox_store, settings
):
    """The whole way through, over real HTTP: refused Bearer token, OAuth, the Test button."""
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    credentials = sandbox_store.credentials
    admin_login(editor)
    page.goto(f"{live_server.url}/admin/connections/connection/add/")
    page.fill("#id_name", "Sandbox shop")
    page.fill("#id_store_domain", sandbox_store.url)
    page.fill("#id_access_token", credentials.access_token)
    page.click("input[name=_save]")

    # The sandbox keeps standalone Bearer tokens off, as Magento 2.4.4+ does by default. The
    # refusal is said once, at the Access Token.
    box = page.locator(".field-access_token #connection-diagnosis")
    assert "Magento did not accept the Access Token" in box.inner_text()
    assert page.locator("#connection-diagnosis").count() == 1
    assert not page.is_visible(".errornote")
    assert page.is_visible("#connection-secrets-note")
    guide = box.get_by_role("link", name="Use OAuth 1.0a instead").get_attribute("href")
    assert guide == "/connections/guide/integration-token/#oauth"

    page.fill("#id_access_token", credentials.access_token)
    page.fill("#id_consumer_key", credentials.consumer_key)
    page.fill("#id_consumer_secret", credentials.consumer_secret)
    page.fill("#id_access_token_secret", credentials.access_token_secret)
    page.click("input[name=_continue]")
    assert "Verified: " in page.inner_text(".messagelist")
    assert "Verified" in page.inner_text(".field-status_badge")

    page.click("button.connection-test-button")
    assert "Sandbox shop: verified." in page.inner_text(".messagelist")
    assert_no_secret_values(page.content(), credentials)


LONG_NAME = "Hauptgeschäft Süddeutschland - Großhandel und Einzelhandel für Fahrräder und Zubehör"


@pytest.mark.parametrize("width", [1280, 800])
def test_buttons_never_cover_a_long_connection_name(
    transactional_db, page, admin_login, live_server, editor, make_connection, width
):
    connection = make_connection(name=LONG_NAME, auth_method="session")
    page.set_viewport_size({"width": width, "height": 800})
    admin_login(editor)
    page.goto(f"{live_server.url}/admin/connections/connection/{connection.pk}/change/")
    name = page.locator("#content h2", has_text="Hauptgeschäft").bounding_box()
    buttons = page.locator("ul.object-tools").bounding_box()
    assert name is not None and buttons is not None
    assert buttons["y"] >= name["y"] + name["height"]  # below the name, not beside it
    for item in page.locator("ul.object-tools li").all():
        box = item.bounding_box()
        assert box["x"] + box["width"] <= width  # wrapped, not pushed out of view
    # Only the guide for the connection's sign-in method.
    tools = page.inner_text("ul.object-tools").lower()
    assert "setup guide: session authentication" in tools
    assert "integration token" not in tools


def assert_no_secret_values(text: str, credentials) -> None:
    for name, value in credentials.as_dict().items():
        if len(value) > 6 and name != "admin_username":
            assert value not in text, f"{name} shown on the page"
