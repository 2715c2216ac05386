"""Pages of the connections app: the setup guide."""

from django.urls import path

from connections import views

app_name = "connections"
urlpatterns = [
    path("guide/", views.guide_overview, name="guide"),
    path(
        "guide/integration-token/",
        views.guide_integration_token,
        name="guide_integration_token",
    ),
    path("guide/session/", views.guide_session, name="guide_session"),
]
