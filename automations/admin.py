from automations import admin_runs  # noqa: F401
