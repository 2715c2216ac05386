"""Every URL of the portal, walked as every role: nobody gets more than their permissions.

The walk is built from the URL configuration (tests/security/helpers.py), so a page added later
is walked as soon as it exists; a page it cannot fill or does not know fails these tests with a
message saying what to add.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.http import HttpResponse
from django.urls import path, reverse

from automations.roles import PORTAL_APPS, VISIBLE_APPS
from connections.admin import ConnectionAdmin
from connections.models import Connection
from tests.security.conftest import READ_ONLY_ROLES, ROLES
from tests.security.helpers import (
    MODEL_PAGES,
    PageIndex,
    Walker,
    admin_request,
    control_problems,
    extra_urls,
    pages,
    unsafe_actions,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_its_permissions_say(
    role, user_in_role, portal_objects, outbound
):
    """GET and POST on every page; read-only roles change nothing and reach no store; no page
    shows a staff user a control they cannot use."""
    walker = Walker(
        user_in_role(role),
        pages(portal_objects),
        read_only=role in READ_ONLY_ROLES,
        outbound=outbound,
    )
    problems = walker.walk()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["staff", "auditor"])
def test_posting_every_admin_action_as_a_read_only_role_changes_nothing(
    role, user_in_role, portal_objects, outbound
):
    walker = Walker(user_in_role(role), pages(portal_objects), read_only=True, outbound=outbound)
    problems = walker.try_every_action()
    assert not problems, "\n".join(problems)


def test_the_walk_covers_every_registered_model_admin_and_custom_view(portal_objects):
    walked = pages(portal_objects)
    by_admin: dict = {}
    for page in walked:
        if page.model_admin is not None:
            by_admin.setdefault(page.model_admin, set()).add(page.kind)
    assert set(by_admin) == set(admin.site._registry.values())
    for model_admin, kinds in by_admin.items():
        assert set(MODEL_PAGES) <= kinds, model_admin
    keys = {page.key for page in walked}
    # Custom views added through get_urls() and pages outside the admin are walked too.
    assert {
        "admin:connections_connection_test",
        "admin:automations_actionrun_run_action",
        "connections:guide_session",
        "healthz",
    } <= keys
    # Every app index, with its label filled in.
    app_indexes = {page.url for page in walked if page.key == "admin:app_list"}
    assert reverse("admin:app_list", args=["connections"]) in app_indexes


# -- roles against the admin's own answers --------------------------------------------------------


def _admins():
    return [(model, model_admin) for model, model_admin in admin.site._registry.items()]


def test_auditors_may_view_the_portal_and_change_nothing_anywhere(user_in_role, portal_objects):
    auditor = user_in_role("auditor")
    request = admin_request(auditor)
    for model, model_admin in _admins():
        row = portal_objects.row(model)
        visible = model._meta.app_label in VISIBLE_APPS
        assert model_admin.has_view_permission(request, row) is visible, model
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request, row), model
        assert not model_admin.has_delete_permission(request, row), model
        assert unsafe_actions(model_admin, auditor) == [], model
    assert not auditor.has_perm("automations.execute_action")
    assert not auditor.has_perm("connections.verify_connection")


@pytest.mark.parametrize("role", ["staff", "auditor", "editor"])
def test_no_admin_page_grants_more_than_the_users_permissions(role, user_in_role, portal_objects):
    """ModelAdmins may narrow a permission (read-only history), never widen it."""
    user = user_in_role(role)
    request = admin_request(user)
    for model, model_admin in _admins():
        row = portal_objects.row(model)
        opts = model._meta  # proxies have their own permissions
        for action in ("view", "add", "change", "delete"):
            check = getattr(model_admin, f"has_{action}_permission")
            granted = check(request) if action == "add" else check(request, row)
            perm = f"{opts.app_label}.{action}_{opts.model_name}"
            if granted and action == "view":
                # Django lets change permission stand in for view.
                assert user.has_perm(perm) or user.has_perm(
                    f"{opts.app_label}.change_{opts.model_name}"
                ), (model, action)
            elif granted:
                assert user.has_perm(perm), (model, action)


def test_editors_see_every_page_of_the_portal_and_change_connections(user_in_role, portal_objects):
    editor = user_in_role("editor")
    request = admin_request(editor)
    for model, model_admin in _admins():
        if model._meta.app_label in VISIBLE_APPS:
            assert model_admin.has_view_permission(request, portal_objects.row(model)), model
        if model._meta.app_label not in PORTAL_APPS:
            assert unsafe_actions(model_admin, editor) == [], model
    connections = admin.site._registry[Connection]
    row = portal_objects.row(Connection)
    assert connections.has_add_permission(request)
    assert connections.has_change_permission(request, row)
    assert connections.has_delete_permission(request, row)
    assert "test_connections" in connections.get_actions(request)


# -- the walk itself fails when it should ---------------------------------------------------------


def test_a_path_parameter_nobody_fills_fails_the_walk(monkeypatch, settings, portal_objects):
    extra_urls(monkeypatch, settings, path("reports/<slug:report>/", HttpResponse, name="report"))
    with pytest.raises(pytest.fail.Exception) as failed:
        pages(portal_objects)
    message = str(failed.value)
    assert "'report' of /reports/<slug:report>/ (report)" in message
    assert "PARAMETER_FILLERS" in message


def test_a_page_open_to_anonymous_users_is_reported(
    monkeypatch, settings, portal_objects, outbound
):
    extra_urls(
        monkeypatch, settings, path("open/", lambda request: HttpResponse("hi"), name="open")
    )
    problems = Walker(None, pages(portal_objects), read_only=True, outbound=outbound).walk()
    assert problems == [
        "GET /open/ (open): got 200, expected [302]",
        "POST /open/ (open): got 200, expected [302]",
    ]


def test_a_page_nobody_declared_is_reported_for_staff(
    monkeypatch, settings, portal_objects, outbound, user_in_role
):
    extra_urls(monkeypatch, settings, path("new/", lambda request: HttpResponse("hi"), name="new"))
    problems = Walker(
        user_in_role("editor"), pages(portal_objects), read_only=False, outbound=outbound
    ).walk()
    assert len(problems) == 1
    assert 'Add one line for "new" to DECLARED' in problems[0]


def test_a_write_action_offered_to_auditors_is_reported(user_in_role):
    @admin.action(description="Archive")
    def archive(model_admin, request, queryset):
        pass

    @admin.action(description="Export", permissions=["view"])
    def export(model_admin, request, queryset):
        pass

    class CarelessAdmin(ConnectionAdmin):
        actions = [archive, export]

    auditor = user_in_role("auditor")
    assert unsafe_actions(CarelessAdmin(Connection, admin.site), auditor) == ["archive"]


def test_a_control_a_user_cannot_use_is_reported(user_in_role, portal_objects):
    auditor = user_in_role("auditor")
    walked = pages(portal_objects)
    listing = next(p for p in walked if p.key == "admin:connections_connection_changelist")
    row = portal_objects.row(Connection)
    html = (
        '<a href="add/">Add</a>'
        f'<a href="{row.pk}/change/">{row}</a>'
        f'<form method="post" action="{row.pk}/test/"><button>Test</button></form>'
        '<form method="post" action="/admin/logout/"><button>Log out</button></form>'
    )
    problems = control_problems(listing, html, auditor, PageIndex(walked))
    assert problems == [
        f"{listing} shows audrey-auditor a link to GET add/ they cannot use",
        f"{listing} shows audrey-auditor a button to POST {row.pk}/test/ they cannot use",
    ]


def test_only_superusers_may_resubmit_tasks_or_clean_up_login_records(user_in_role):
    from axes.models import AccessAttempt
    from django_q.models import Failure, Success

    users = {role: user_in_role(role) for role in ("auditor", "editor", "superuser")}
    for model, action in (
        (Success, "resubmit_tasks"),
        (Failure, "resubmit_tasks"),
        (AccessAttempt, "cleanup_expired_attempts"),
    ):
        model_admin = admin.site._registry[model]
        for role in ("auditor", "editor"):
            offered = model_admin.get_actions(admin_request(users[role]))
            assert action not in offered, (model, role)
        superuser = admin_request(users["superuser"])
        assert action in model_admin.get_actions(superuser), model
