"""The setup guide: server-rendered pages, one per authentication method (staff only)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render

from connections.verification import required_permissions

GUIDE_PAGES = {
    "overview": ("connections/guide/overview.html", "Connecting a store"),
    "integration_token": (
        "connections/guide/integration_token.html",
        "Setup guide: Integration Token",
    ),
    "session": ("connections/guide/session.html", "Setup guide: Session Authentication"),
}


def _guide(request, page: str):
    template, title = GUIDE_PAGES[page]
    context = {
        **admin.site.each_context(request),
        "title": title,
        "permissions": required_permissions(),
    }
    return render(request, template, context)


@staff_member_required
def guide_overview(request):
    """Store Domain, network, TLS, store code and key rotation notes."""
    return _guide(request, "overview")


@staff_member_required
def guide_integration_token(request):
    """Integration Token (Bearer) and OAuth 1.0a setup, step by step."""
    return _guide(request, "integration_token")


@staff_member_required
def guide_session(request):
    """Session Authentication (admin user) setup, 2FA and lockout."""
    return _guide(request, "session")
