"""The Connections pages of the admin: a thin door onto connections.services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.timezone import localtime
from django.views.decorators.debug import sensitive_post_parameters

from connections import diagnosis as dx
from connections.forms import ConnectionForm, forget_switches
from connections.models import (
    ADVANCED_FIELDS,
    OAUTH_FIELDS,
    SECRET_FIELDS,
    AuthMethod,
    Connection,
)
from connections.selectors import connection_load_credentials, with_automation_counts
from connections.services import connection_save
from connections.verification import ALL_PROBES, DENIED, NOT_CHECKED, OK, connection_verify

STATUS_COLOURS = {"verified": "#1e7e34", "unverified": "#8a6d00", "failed": "#b02a37"}
# A permission check's outcome: (CSS class suffix, words on the page).
PERMISSION_RESULTS = {
    OK: ("allowed", "allowed"),
    DENIED: ("denied", "denied"),
    NOT_CHECKED: ("not-checked", "not checked"),
}


def can_verify(request, obj=None) -> bool:
    """Testing a connection needs change permission or the dedicated verify permission."""
    user = request.user
    return user.has_perm("connections.change_connection") or user.has_perm(
        "connections.verify_connection"
    )


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    change_form_template = "admin/connections/connection/change_form.html"
    # Status, last verified and usage first: at 1280 px the last column runs out of view. The
    # sign-in method is a filter, not a column.
    list_display = ("name", "status_badge", "last_verified", "used_by", "store_domain")
    list_filter = ("status", "auth_method")
    search_fields = ("name", "store_domain")
    actions = ["test_connections"]
    readonly_fields = (
        "status_badge",
        "last_verified_at",
        "last_checked_at",
        "base_url",
        "timezone",
        "currency",
        "last_problem",
        "permission_table",
        "credentials_summary",
    )

    class Media:
        js = ("connections/connection_form.js",)
        css = {"all": ("connections/connections.css",)}

    # -- layout -------------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        status = (
            "Status",
            {
                "fields": (
                    "status_badge",
                    "last_verified_at",
                    "last_checked_at",
                    "base_url",
                    "timezone",
                    "currency",
                    "last_problem",
                    "permission_table",
                )
            },
        )
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only page: secrets appear only as "set" (never as read-only values).
            credentials = ("credentials_summary",)
            if obj.auth_method == AuthMethod.SESSION:
                credentials = ("credentials_summary", "admin_username")
            return (
                status,
                (None, {"fields": ("name", "store_domain", "auth_method")}),
                ("Credentials", {"fields": credentials}),
                ("Advanced", {"fields": ADVANCED_FIELDS}),
            )
        switches = forget_switches(obj)
        integration = ["access_token", *OAUTH_FIELDS]
        session = ["admin_username", "admin_password", "totp_secret"]
        if "forget_oauth" in switches:
            integration.append("forget_oauth")
        if "forget_totp" in switches:
            session.append("forget_totp")
        fieldsets = [
            (None, {"fields": ("name", "store_domain", "auth_method")}),
            (
                "Integration Token",
                {
                    "fields": integration,
                    "classes": ("auth-method", "auth-integration_token"),
                    "description": format_html(
                        "Access Token of a Magento integration. Add the four OAuth 1.0a values "
                        "only if the store does not allow standalone Bearer tokens. "
                        '<a href="{}">Setup guide</a>',
                        reverse("connections:guide_integration_token"),
                    ),
                },
            ),
            (
                "Session Authentication",
                {
                    "fields": session,
                    "classes": ("auth-method", "auth-session"),
                    "description": format_html(
                        "A Magento admin user; the portal signs in for a 4-hour token. "
                        '<a href="{}">Setup guide</a>',
                        reverse("connections:guide_session"),
                    ),
                },
            ),
            (
                "Advanced",
                {
                    "fields": ADVANCED_FIELDS,
                    "classes": ("collapse",),
                },
            ),
            ("Save", {"fields": ("save_anyway",)}),
        ]
        if obj is not None:
            # An existing connection's state is what its page is opened for: show it first.
            fieldsets.insert(0, status)
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        # Form-only inputs (save anyway, forget ...) are declared on the form, not the model.
        kwargs["fields"] = None
        if obj is not None and not self.has_change_permission(request, obj):
            # View-only: no input at all, and the secrets not even as excluded form fields.
            kwargs["fields"] = [f for f in ConnectionForm.Meta.fields if f not in SECRET_FIELDS]
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return (
                *self.readonly_fields,
                "name",
                "store_domain",
                "auth_method",
                "admin_username",
                *ADVANCED_FIELDS,
            )
        return self.readonly_fields

    def get_queryset(self, request):
        # Credentials are decrypted only when a page really needs them, so the list keeps
        # working even if the encryption keys changed.
        queryset = super().get_queryset(request).defer(*SECRET_FIELDS, "admin_token")
        return with_automation_counts(queryset)

    # -- columns and read-only values -----------------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<strong class="connection-status connection-status-{}" style="color:{}">{}</strong>',
            obj.status,
            STATUS_COLOURS.get(obj.status, "inherit"),
            obj.get_status_display(),
        )

    @admin.display(description="Last verified", ordering="last_verified_at")
    def last_verified(self, obj):
        # "3 hours ago" keeps the column narrow enough for "Used by" to stay in view.
        if obj.last_verified_at is None:
            return self.get_empty_value_display()
        return format_html(
            '<span title="{}">{} ago</span>',
            date_format(localtime(obj.last_verified_at), "DATETIME_FORMAT"),
            timesince(obj.last_verified_at, depth=1),
        )

    @admin.display(description="Used by")
    def used_by(self, obj):
        count = getattr(obj, "automation_count", None)
        if count is None:
            return self.get_empty_value_display()
        return f"{count} automation{'s' if count != 1 else ''}"

    @admin.display(description="Last problem")
    def last_problem(self, obj):
        if not obj.last_error_code:
            return self.get_empty_value_display()
        links = format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            ((link.url, link.label) for link in dx.links_for(obj.last_error_code)),
        )
        if obj.sign_in_refused_at:
            held = format_html(
                "<br><strong>Sign-ins paused since {}.</strong>",
                date_format(localtime(obj.sign_in_refused_at), "DATETIME_FORMAT"),
            )
            return format_html("{}<br>{}{}", obj.last_error_message, links, held)
        return format_html("{}<br>{}", obj.last_error_message, links)

    @admin.display(description="Permissions")
    def permission_table(self, obj):
        results = obj.permission_results or {}
        if not results and obj.last_checked_at is None:
            return self.get_empty_value_display()
        # A check that stopped early (or a refused token) leaves the rest "not checked".
        rows = []
        for probe in ALL_PROBES:
            state = results.get(probe.key, NOT_CHECKED)
            css, words = PERMISSION_RESULTS.get(state, PERMISSION_RESULTS[NOT_CHECKED])
            rows.append((probe.label, probe.acl_label, probe.resource, css, words))
        body = format_html_join(
            "",
            '<tr><td>{}</td><td>{} ({})</td><td class="permission-{}">{}</td></tr>',
            rows,
        )
        return format_html('<table class="connection-permissions">{}</table>', body)

    @admin.display(description="Credentials")
    def credentials_summary(self, obj):
        if obj.credentials_unreadable:
            return dx.make_diagnosis(dx.CREDENTIALS_UNREADABLE).message
        fields = (
            ("access_token", *OAUTH_FIELDS)
            if obj.auth_method == AuthMethod.INTEGRATION_TOKEN
            else ("admin_password", "totp_secret")
        )
        rows = [
            (Connection.label(name), "set" if getattr(obj, name) else "not set") for name in fields
        ]
        return format_html_join("", "<div>{}: {}</div>", rows)

    # -- saving ---------------------------------------------------------------------------------

    @csrf_protect_m
    @method_decorator(sensitive_post_parameters(*SECRET_FIELDS))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The admin normally wraps this view in a transaction; saving calls the store, and a
        # transaction must never stay open while waiting for Magento. The service saves
        # atomically on its own.
        extra_context = extra_context or {}
        extra_context["can_verify"] = can_verify(request)
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # Found only when writing (another save took the name since the form was checked).
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        except Connection.DoesNotExist as error:
            # Deleted by someone else while this page was being saved.
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:connections_connection_changelist"))

    def get_object(self, request, object_id, from_field=None):
        # The list defers the credentials; a connection's own pages read them here, once. Saved
        # under other keys, they come back empty, so new ones can be typed over them.
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            connection_load_credentials(obj)
        return obj

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if context["adminform"].form.verification_refused:
            # The store's refusal is the only error and is shown once, where it applies:
            # no "Please correct the errors below." on top of it.
            context["errors"] = None
        if obj is not None and obj.credentials_unreadable:
            diagnosis = dx.make_diagnosis(dx.CREDENTIALS_UNREADABLE)
            what_to_do = (
                " The credential fields below are empty: enter the credentials again and save."
                if self.has_change_permission(request, obj)
                else ""
            )
            self.message_user(request, f"{diagnosis.message}{what_to_do}", messages.WARNING)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        outcome = connection_save(
            connection=obj,
            user=request.user,
            verify=False,
            save_unverified=True,
            verification=form.verification,
        )
        diagnosis = outcome.verification.diagnosis if outcome.verification else None
        if diagnosis is not None and diagnosis.ok:
            self.message_user(
                request,
                f"Verified: {obj.base_url or obj.store_domain} (timezone {obj.timezone or '?'}, "
                f"currency {obj.currency or '?'}).",
                messages.SUCCESS,
            )
        elif diagnosis is not None:
            self.message_user(
                request,
                f"Saved without a working connection. {diagnosis.title}.",
                messages.WARNING,
            )
        if obj.uses_plain_http:
            self.message_user(
                request,
                "This connection uses plain http://: the store's credentials travel unencrypted.",
                messages.WARNING,
            )

    def construct_change_message(self, request, form, formsets, add=False):
        # Django lists changed field labels only (never values); "save anyway" is no change.
        message = super().construct_change_message(request, form, formsets, add)
        switch = form.fields["save_anyway"].label if "save_anyway" in form.fields else None
        for entry in message:
            if "changed" in entry:
                fields = entry["changed"]["fields"]
                entry["changed"]["fields"] = [f for f in fields if f != switch]
        return [e for e in message if not ("changed" in e and not e["changed"]["fields"])]

    # -- testing --------------------------------------------------------------------------------

    def get_urls(self):
        urls = super().get_urls()
        custom = [
            path(
                "<int:object_id>/test/",
                self.admin_site.admin_view(self.test_view),
                name="connections_connection_test",
            )
        ]
        return custom + urls

    def test_view(self, request, object_id):
        """POST: check the connection against its store, then go back to its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not can_verify(request):
            raise PermissionDenied
        connection = get_object_or_404(
            Connection.objects.defer(*SECRET_FIELDS, "admin_token"), pk=object_id
        )
        self._report(
            request, connection, connection_verify(connection=connection, user=request.user)
        )
        return HttpResponseRedirect(
            reverse("admin:connections_connection_change", args=[connection.pk])
        )

    @admin.action(description="Test selected connections")
    def test_connections(self, request, queryset):
        if not can_verify(request):
            raise PermissionDenied
        for connection in queryset:
            self._report(
                request, connection, connection_verify(connection=connection, user=request.user)
            )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not can_verify(request):
            actions.pop("test_connections", None)
        return actions

    def _report(self, request, connection, result):
        diagnosis = result.diagnosis
        if result.outdated:
            self.message_user(
                request,
                f"{connection.name}: deleted or saved by someone else during the test, so its "
                "outcome was not kept. Test it again if it still exists.",
                messages.WARNING,
            )
            return
        if diagnosis.ok:
            self.message_user(request, f"{connection.name}: verified.", messages.SUCCESS)
            return
        links = format_html_join(
            " · ", '<a href="{}">{}</a>', ((link.url, link.label) for link in diagnosis.links)
        )
        self.message_user(
            request,
            format_html(
                "{}: {} {} {}", connection.name, diagnosis.title + ".", diagnosis.explanation, links
            ),
            messages.ERROR,
        )
