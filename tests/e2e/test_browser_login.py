"""The login page in a real browser: a staff user gets in, anyone else is turned away."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_staff_user_logs_in_through_the_form(admin_login, make_staff):
    page = admin_login(make_staff("staffer"))
    page.wait_for_url("**/admin/")
    assert page.locator("#site-name").inner_text() == "Magento 2 Automation Portal"


def test_non_staff_user_is_turned_away(admin_login, make_staff):
    page = admin_login(make_staff("shopper", is_staff=False))
    assert "/admin/login/" in page.url
    assert "staff account" in page.locator(".errornote").inner_text()
