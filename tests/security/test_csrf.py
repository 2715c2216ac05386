"""CSRF is enforced on every POST: every URL of the walk, as every role."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt

from tests.security.conftest import READ_ONLY_ROLES, ROLES
from tests.security.helpers import CSRF_SECRET, Walker, extra_urls, pages

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ROLES)
def test_every_post_without_a_csrf_token_is_refused(role, user_in_role, portal_objects, outbound):
    """Without the token: 403 and nothing changes. With it, the same user gets what the access
    walk expects, so the 403 really is the missing token."""
    walker = Walker(
        user_in_role(role),
        pages(portal_objects),
        read_only=role in READ_ONLY_ROLES,
        outbound=outbound,
        enforce_csrf=True,
    )
    problems = walker.try_posts_without_csrf_token()
    assert not problems, "\n".join(problems)


def test_a_token_that_does_not_match_the_cookie_is_refused(user_in_role):
    editor = user_in_role("editor")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    browser.cookies["csrftoken"] = CSRF_SECRET
    url = reverse("admin:connections_connection_add")
    refused = browser.post(url, {"csrfmiddlewaretoken": "b" * 32, "name": "Shop"})
    assert refused.status_code == 403
    assert b"CSRF verification failed" in refused.content
    accepted = browser.post(url, {"csrfmiddlewaretoken": CSRF_SECRET})
    assert accepted.status_code == 200  # the form again, with what is missing


def test_a_page_that_skips_the_csrf_check_is_reported(
    monkeypatch, settings, portal_objects, outbound
):
    exempt = csrf_exempt(lambda request: HttpResponse("done"))
    extra_urls(monkeypatch, settings, path("hook/", exempt, name="hook"))
    walker = Walker(
        None, pages(portal_objects), read_only=True, outbound=outbound, enforce_csrf=True
    )
    problems = walker.try_posts_without_csrf_token()
    assert problems == [
        "POST /hook/ (hook) without a CSRF token: got 200, not the CSRF failure page"
    ]
