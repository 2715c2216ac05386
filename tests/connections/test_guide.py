"""The setup guide: one page per method, an anchor for every step a diagnosis links to."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from connections import diagnosis as dx

pytestmark = pytest.mark.django_db


def anchors(html: str) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', html))


def test_every_diagnosis_link_points_to_an_existing_anchor(editor_client):
    pages = {}
    for code in dx.CODES:
        for link in dx.links_for(code):
            path = link.url.split("#")[0]
            if path not in pages:
                response = editor_client.get(path)
                assert response.status_code == 200
                pages[path] = anchors(response.content.decode())
            assert link.anchor in pages[path], f"{code}: {link.url} has no anchor"
    assert len(pages) == 3


def test_integration_token_page_walks_through_the_magento_screens(editor_client):
    page = editor_client.get(reverse("connections:guide_integration_token")).content.decode()
    for text in (
        "Stores &gt; Settings &gt; Configuration",
        "Services &gt; OAuth",
        "Consumer Settings",
        "Allow OAuth Access Tokens to be used as standalone Bearer tokens",
        "Save Config",
        "System &gt; Extensions &gt; Integrations",
        "Add New Integration",
        "Your Password",
        "Resource Access",
        "Activate",
        "Allow",
        "Access Token Secret",
    ):
        assert text in page, text
    assert {
        "bearer-setting",
        "create-integration",
        "resource-access",
        "activate",
        "paste",
        "oauth",
    } <= anchors(page)


def test_session_page_covers_permissions_2fa_lifetime_and_lockout(editor_client):
    page = editor_client.get(reverse("connections:guide_session")).content.decode()
    assert {"admin-user", "api-permissions", "two-factor", "token-lifetime", "lockout"} <= (
        anchors(page)
    )
    assert "4 hours" in page
    assert "Magento_Sales::shipment" in page


def test_guide_uses_the_admin_look(editor_client):
    page = editor_client.get(reverse("connections:guide")).content.decode()
    assert "Magento 2 Automation Portal" in page  # the admin's site header


@pytest.mark.parametrize(
    "page", ["connections:guide_integration_token", "connections:guide_session"]
)
def test_permission_lists_name_each_resource_once_with_its_writes(editor_client, page):
    html = editor_client.get(reverse(page)).content.decode()
    for line in (
        "<strong>Customers &gt; All Customers</strong> (Magento_Customer::manage): "
        "Update customers",
        "<strong>Catalog &gt; Inventory &gt; Products</strong> (Magento_Catalog::products): "
        "Read products, Save products",
        "<strong>Sales &gt; Operations &gt; Orders &gt; Actions &gt; Ship</strong> "
        "(Magento_Sales::ship): Ship orders",
    ):
        assert line in html
    assert html.count("(Magento_Catalog::products)") == 1
    assert "cannot be checked" not in html and "cannot test" not in html
