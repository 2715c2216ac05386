"""One saved row of every model the admin shows, so every page that takes an object can be opened.

Rows are made generically from the model's fields (related rows first). A model whose rows need
real values (encrypted credentials, a proxy's filter, a signed payload) gets a factory in
OBJECT_FACTORIES: one line, keyed by the model's label.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable

from django.apps import apps
from django.contrib import admin
from django.db import models, transaction
from django.utils import timezone

from automations.roles import PORTAL_APPS
from connections.models import Connection, ConnectionStatus
from tests.connections.helpers import token_fields


def _queue_task(objects: PortalObjects, *, success: bool):
    from django_q.models import Task

    now = timezone.now()
    return Task.objects.create(
        id=uuid.uuid4().hex,
        name=f"row-{'success' if success else 'failure'}",
        func="math.floor",
        args=(1.5,),
        kwargs={},
        started=now,
        stopped=now,
        success=success,
        result=1 if success else "Traceback: it failed",
    )


def _queued_message(objects: PortalObjects):
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    payload = {"id": uuid.uuid4().hex, "name": "row-queued", "func": "math.floor", "args": (1.5,)}
    return OrmQ.objects.create(key="portal", payload=SignedPackage.dumps(payload))


def _user(objects: PortalObjects):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username="row-user", email="row@example.com")


# Factories for models a generic row does not fit: label -> function(objects) returning the row.
OBJECT_FACTORIES: dict[str, Callable[[PortalObjects], models.Model]] = {
    "auth.User": _user,
    "connections.Connection": lambda objects: Connection.objects.create(
        **token_fields(store_domain="https://shop.example.com", status=ConnectionStatus.VERIFIED)
    ),
    "django_q.Success": lambda objects: _queue_task(objects, success=True),
    "django_q.Failure": lambda objects: _queue_task(objects, success=False),
    "django_q.OrmQ": _queued_message,
    # A subscription and a step name real catalog entries, as every saved one does.
    "automations.TriggerSubscription": lambda objects: _subscription(objects),
    "automations.AutomationStep": lambda objects: _step(objects),
}


def _subscription(objects: PortalObjects):
    from automations.models import Automation, TriggerSubscription

    return TriggerSubscription.objects.create(
        automation=objects.row(Automation),
        connection=objects.row(Connection),
        trigger_id="order_created",
        options={"start": "all"},
    )


def _step(objects: PortalObjects):
    from automations.models import Automation, AutomationStep

    return AutomationStep.objects.create(
        automation=objects.row(Automation),
        position=1,
        action_id="get_product_by_sku",
        connection=objects.row(Connection),
        inputs={"sku": "{{ trigger.items.0.sku }}"},
    )


class CannotMakeRow(Exception):
    """A model whose row cannot be made from its fields alone: it needs a factory."""


class PortalObjects:
    """One row per model, made on first use; `row(model)` returns the same row every time."""

    def __init__(self) -> None:
        self._rows: dict[str, models.Model] = {}
        self._making: set[str] = set()

    def make_all(self) -> None:
        """A row of every model the admin shows and of every model of the portal's own apps."""
        wanted = list(admin.site._registry)
        for app_label in PORTAL_APPS:
            wanted += list(apps.get_app_config(app_label).get_models())
        for model in wanted:
            self.row(model)

    def row(self, model: type[models.Model]) -> models.Model:
        label = model._meta.label
        if label not in self._rows:
            self._making.add(label)
            try:
                factory = OBJECT_FACTORIES.get(label)
                self._rows[label] = factory(self) if factory else self._generic_row(model)
            finally:
                self._making.discard(label)
        return self._rows[label]

    def _generic_row(self, model: type[models.Model]) -> models.Model:
        values = {}
        for field in model._meta.concrete_fields:
            if field.is_relation:
                related = field.related_model
                if related._meta.label in self._making:
                    if field.null:
                        continue  # a cycle (a row pointing at its own kind): leave it empty
                    raise CannotMakeRow(_advice(model, f"{field.name} needs a row being made"))
                values[field.name] = self.row(related)
            elif not (field is model._meta.auto_field or field.has_default() or field.null):
                values[field.name] = _sample_value(model, field)
        try:
            with transaction.atomic():
                return model._default_manager.create(**values)
        except Exception as error:
            raise CannotMakeRow(_advice(model, f"saving {values!r} failed: {error}")) from error


def _sample_value(model, field):
    if field.primary_key and isinstance(field, models.CharField):
        return uuid.uuid4().hex[: field.max_length]
    if field.choices:
        return field.choices[0][0]
    samples = [
        (models.EmailField, "row@example.com"),
        (models.URLField, "https://example.com/"),
        (models.GenericIPAddressField, "203.0.113.7"),
        (models.UUIDField, uuid.uuid4()),
        (models.CharField, "row"),
        (models.TextField, "row"),
        (models.BooleanField, True),
        (models.FloatField, 1.0),
        (models.DecimalField, decimal.Decimal(1)),
        (models.IntegerField, 1),
        (models.DateTimeField, timezone.now()),
        (models.DateField, timezone.localdate()),
        (models.TimeField, dt.time(12, 0)),
        (models.DurationField, dt.timedelta(minutes=1)),
        (models.JSONField, {}),
        (models.BinaryField, b"row"),
    ]
    for kind, value in samples:
        if isinstance(field, kind):
            return value
    raise CannotMakeRow(_advice(model, f"no sample value for {type(field).__name__} {field.name}"))


def _advice(model, reason: str) -> str:
    return (
        f"Cannot make a row of {model._meta.label} for the access walk ({reason}). Add a "
        f'factory for it to OBJECT_FACTORIES in tests/security/objects.py: "{model._meta.label}": '
        "lambda objects: <the model>.objects.create(...)."
    )
