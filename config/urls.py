"""URL routes: the portal lives in the Django admin; extra pages hang off it."""

from django.contrib import admin
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from automations.dashboard import alerts_view, dashboard_view

admin.site.site_header = "Magento 2 Automation Portal"
admin.site.site_title = "Automation Portal"
admin.site.index_title = "Stores, automations and run history"
# One way to show "no value" on every admin page (Django's default is "-").
admin.site.empty_value_display = "—"


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the page links: send them to the portal's icon."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static("portal/favicon.svg")


def healthz(request):
    """Liveness probe for load balancers and process supervisors."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("connections/", include("connections.urls")),
    # Before the admin's own URLs, which would take any admin/<app>/ path.
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="automations_dashboard"),
    path("admin/alerts/", admin.site.admin_view(alerts_view), name="automations_alerts"),
    path("admin/", admin.site.urls),
]
