from automations import admin_runs, admin_third_party  # noqa: F401
