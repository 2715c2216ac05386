"""What `make demo` sets up: a demo staff user, a connection to the sandbox store, and the
example automation (new orders -> find the first product by SKU -> ship the order).

Each is reused when it exists, so a second demo changes nothing but what must follow the new
sandbox: its address and keys (random per run), the demo user's password (printed), and the
example automation's walk, which starts again from now because the sandbox is a new store
whose ids start again from 1.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from automations.models import Automation
from automations.roles import EDITORS
from automations.services import (
    AutomationSpec,
    StepSpec,
    automation_save,
    subscription_start_over,
)
from automations.triggers._base import START_OPTION
from connections.models import AuthMethod, Connection
from connections.selectors import connection_get_by_name
from connections.services import connection_create, connection_update

DEMO_USERNAME = "demo"
DEMO_CONNECTION = "Demo sandbox store"
DEMO_AUTOMATION = "Demo: ship new orders"


@transaction.atomic
def demo_user_ensure() -> tuple[Any, str]:
    """The demo staff user (an automation editor) with a new random password; (user, password)."""
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"email": "demo@example.com"}
    )
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.is_staff = True
    user.is_active = True
    user.save()
    editors = Group.objects.filter(name=EDITORS).first()
    if editors is not None:
        user.groups.add(editors)
    return user, password


def demo_connection_ensure(*, store_domain: str, credentials: Any, user: Any = None) -> Connection:
    """The connection to the sandbox (OAuth 1.0a), created or pointed at this run's sandbox."""
    values = {
        "store_domain": store_domain,
        "auth_method": AuthMethod.INTEGRATION_TOKEN,
        "access_token": credentials.access_token,
        "consumer_key": credentials.consumer_key,
        "consumer_secret": credentials.consumer_secret,
        "access_token_secret": credentials.access_token_secret,
    }
    existing = connection_get_by_name(DEMO_CONNECTION)
    if existing is None:
        outcome = connection_create(name=DEMO_CONNECTION, user=user, save_unverified=True, **values)
    else:
        outcome = connection_update(
            connection=existing, changes=values, user=user, save_unverified=True
        )
    return outcome.connection


def demo_spec(connection: Connection) -> AutomationSpec:
    """The example automation: each new order's first product, then ship the whole order."""
    return AutomationSpec(
        name=DEMO_AUTOMATION,
        description="Made by `make demo`: ships every new order of the sandbox store.",
        connection=connection,
        trigger_id="order_created",
        options={START_OPTION: "now"},
        poll_interval_minutes=1,
        steps=[
            StepSpec("get_product_by_sku", connection, {"sku": "{{ trigger.items.0.sku }}"}),
            StepSpec(
                "create_shipment",
                connection,
                {
                    "order_increment_id": "{{ trigger.increment_id }}",
                    "track_number": "DEMO-{{ trigger.increment_id }}",
                    "carrier_code": "custom",
                    "title": "Demo parcel service",
                    "comment": "Packed by the demo automation, starting with {{ steps.1.name }}.",
                },
            ),
        ],
    )


@transaction.atomic
def demo_automation_ensure(*, connection: Connection, user: Any = None) -> Automation:
    """The example automation: created once; on later runs its walk starts again from now."""
    automation = Automation.objects.filter(name__iexact=DEMO_AUTOMATION).first()
    if automation is None:
        return automation_save(spec=demo_spec(connection), user=user)
    # A new sandbox: the old cursor and seen ids belong to the last run's store.
    subscription_start_over(automation=automation)
    return automation
