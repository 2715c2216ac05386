"""The dashboard ("did it work?") and each user's alert choices: two admin pages, no JavaScript.

Both hang off the admin (config/urls.py wraps them in admin_site.admin_view); the admin index
links to the dashboard first. The chart is SVG drawn on the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from automations.alerts import alert_subscription_for, alert_subscription_save
from automations.history_admin import EXECUTE_PERMISSION
from automations.selectors import HourBar, dashboard_read

VIEW_PERMISSION = "automations.view_actionrun"

CHART_WIDTH = 600
CHART_HEIGHT = 140
CHART_LEFT = 34  # room for the scale
CHART_BOTTOM = 18  # room for the hours


@dataclass
class ChartBar:
    x: float
    width: float
    succeeded_y: float
    succeeded_height: float
    failed_y: float
    failed_height: float
    title: str
    label: str


def chart_bars(hours: list[HourBar]) -> dict:
    """Geometry of the runs-per-hour chart: stacked bars (succeeded below, failed on top)."""
    plot_width = CHART_WIDTH - CHART_LEFT
    plot_height = CHART_HEIGHT - CHART_BOTTOM
    slot = plot_width / max(len(hours), 1)
    peak = max((bar.succeeded + bar.failed for bar in hours), default=0)
    scale = plot_height / peak if peak else 0
    bars = []
    for index, hour in enumerate(hours):
        local = timezone.localtime(hour.start)
        succeeded_height = hour.succeeded * scale
        failed_height = hour.failed * scale
        bottom = plot_height
        bars.append(
            ChartBar(
                x=round(CHART_LEFT + index * slot + 1, 1),
                width=round(slot - 2, 1),
                succeeded_y=round(bottom - succeeded_height, 1),
                succeeded_height=round(succeeded_height, 1),
                failed_y=round(bottom - succeeded_height - failed_height, 1),
                failed_height=round(failed_height, 1),
                title=f"{local:%H}:00: {hour.succeeded} succeeded, {hour.failed} failed",
                label=f"{local:%H}h" if index % 3 == 0 else "",
            )
        )
    return {
        "bars": bars,
        "peak": peak,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "plot_height": plot_height,
        "label_y": CHART_HEIGHT - 4,
        "right": CHART_WIDTH,
    }


@require_GET
def dashboard_view(request):
    """Connections, automations, recent failures, backlogs and the last day's runs."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    data = dashboard_read()
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "subtitle": None,
        "data": data,
        "chart": chart_bars(data.hours),
        "catching_up": [row for row in data.automations if row.catching_up],
        "can_run_action": request.user.has_perm(EXECUTE_PERMISSION),
        "alerts": alert_subscription_for(request.user),
    }
    return TemplateResponse(request, "admin/automations/dashboard.html", context)


class AlertsForm(forms.Form):
    label_suffix = ""
    poll_failures = forms.BooleanField(
        required=False,
        label="E-mail me when an automation's polls keep failing",
    )
    run_failures = forms.BooleanField(
        required=False, label="E-mail me when a run of an automation fails for good"
    )


def alerts_view(request):
    """Each staff user chooses their own e-mail alerts."""
    current = alert_subscription_for(request.user)
    if request.method == "POST":
        form = AlertsForm(request.POST)
        if form.is_valid():
            alert_subscription_save(user=request.user, **form.cleaned_data)
            if not request.user.email and any(form.cleaned_data.values()):
                messages.warning(
                    request,
                    "Saved, but your account has no e-mail address: ask a superuser to add one.",
                )
            else:
                messages.success(request, "Your alert choices were saved.")
            return HttpResponseRedirect(reverse("automations_alerts"))
    else:
        form = AlertsForm(
            initial={"poll_failures": current.poll_failures, "run_failures": current.run_failures}
        )
    context = {
        **admin.site.each_context(request),
        "title": "My alerts",
        "subtitle": None,
        "form": form,
        "email": request.user.email,
    }
    return TemplateResponse(request, "admin/automations/alerts.html", context)
