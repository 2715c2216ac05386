"""URL routes: the portal lives in the Django admin; extra pages hang off it."""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Magento 2 Automation Portal"
admin.site.site_title = "Automation Portal"
admin.site.index_title = "Stores, automations and run history"


def healthz(request):
    """Liveness probe for load balancers and process supervisors."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("connections/", include("connections.urls")),
    path("admin/", admin.site.urls),
]
