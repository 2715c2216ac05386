"""The portal's favicon: /favicon.ico leads to it, and every admin page links it."""

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_the_portal_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response.headers["Location"] == "/static/portal/favicon.svg"


def test_the_icon_is_a_static_svg_file():
    path = finders.find("portal/favicon.svg")
    assert path is not None
    with open(path, encoding="utf-8") as handle:
        assert handle.read().startswith("<svg ")


ICON_LINK = '<link rel="icon" href="/static/portal/favicon.svg" type="image/svg+xml">'


def test_the_login_page_links_the_icon(client):
    assert ICON_LINK in client.get("/admin/login/").content.decode()


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/connections/connection/", "/connections/guide/"]
)
def test_staff_pages_link_the_icon(editor_client, url):
    response = editor_client.get(url)
    assert response.status_code == 200
    assert ICON_LINK in response.content.decode()
