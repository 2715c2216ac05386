"""Pages of the connections app (the setup guide lives here)."""

app_name = "connections"
urlpatterns: list = []
