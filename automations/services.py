"""Writing automations and their trigger subscriptions (the actions issue adds steps).

Admin pages, commands and the import are doors onto these services: they validate what a
person gives, fix the subscription's start point when it is enabled, and keep the schedule's
fields consistent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from automations.models import (
    DEFAULT_LOOKBACK_SECONDS,
    DEFAULT_POLL_INTERVAL_MINUTES,
    MAX_POLL_INTERVAL_MINUTES,
    MIN_POLL_INTERVAL_MINUTES,
    Automation,
    TriggerEvent,
    TriggerSubscription,
)
from automations.runs import runs_create_for_events, runs_enqueue_for_events
from automations.triggers import get_trigger
from automations.triggers._base import START_OPTION, OptionsError, shown, start_moment
from connections.models import Connection
from connections.validation import unseen_character, unseen_character_message

MAX_LOOKBACK_SECONDS = 3600
MAX_NAME_LENGTH = Automation._meta.get_field("name").max_length


def _clean_interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            {"poll_interval_minutes": "The poll interval must be a whole number of minutes."}
        )
    if not MIN_POLL_INTERVAL_MINUTES <= value <= MAX_POLL_INTERVAL_MINUTES:
        raise ValidationError(
            {
                "poll_interval_minutes": f"Poll every {MIN_POLL_INTERVAL_MINUTES} to "
                f"{MAX_POLL_INTERVAL_MINUTES} minutes (got {value})."
            }
        )
    return value


def _clean_trigger(trigger_id: str, options: Any) -> dict[str, Any]:
    try:
        if not isinstance(trigger_id, str):
            raise KeyError(trigger_id)
        trigger = get_trigger(trigger_id)
    except KeyError:
        raise ValidationError({"trigger_id": f"There is no trigger {shown(trigger_id)}."}) from None
    try:
        return trigger.clean_options(options)
    except OptionsError as error:
        raise ValidationError(
            {"options": [f"{name}: {text}" for name, text in error.errors.items()]}
        ) from None


@transaction.atomic
def automation_create(
    *,
    name: str,
    connection: Connection,
    trigger_id: str,
    options: dict[str, Any] | None = None,
    poll_interval_minutes: int = DEFAULT_POLL_INTERVAL_MINUTES,
    lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
    enabled: bool = True,
    user: Any = None,
    now: dt.datetime | None = None,
) -> Automation:
    """Create an automation and its trigger subscription (steps are added separately).

    Validates the trigger id, its options and the interval (ValidationError names the field).
    An enabled subscription's start point is fixed now, so records made before its first poll
    still fire and nothing older does (for "start": "now").
    """
    if not isinstance(name, str | None):
        raise ValidationError({"name": "The name must be text."})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the automation a name."})
    if char := unseen_character(name):
        raise ValidationError({"name": unseen_character_message("name", char)})
    if len(name) > MAX_NAME_LENGTH:
        too_long = f"The name is too long ({len(name)} characters); use at most {MAX_NAME_LENGTH}."
        raise ValidationError({"name": too_long})
    if Automation.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"An automation named {name!r} already exists."})
    cleaned = _clean_trigger(trigger_id, options)
    interval = _clean_interval(poll_interval_minutes)
    if (
        isinstance(lookback_seconds, bool)
        or not isinstance(lookback_seconds, int)
        or not 0 <= lookback_seconds <= MAX_LOOKBACK_SECONDS
    ):
        raise ValidationError(
            {"lookback_seconds": f"The look-back window is 0 to {MAX_LOOKBACK_SECONDS} seconds."}
        )
    now = now or timezone.now()
    user = user if getattr(user, "pk", None) else None
    automation = Automation.objects.create(
        name=name, enabled=enabled, created_by=user, updated_by=user
    )
    TriggerSubscription.objects.create(
        automation=automation,
        connection=connection,
        trigger_id=trigger_id,
        options=cleaned,
        poll_interval_minutes=interval,
        lookback_seconds=lookback_seconds,
        start_from=start_moment(cleaned[START_OPTION], now),
        next_poll_at=now,
    )
    return automation


@transaction.atomic
def automation_set_enabled(
    *, automation: Automation, enabled: bool, user: Any = None, now: dt.datetime | None = None
) -> Automation:
    """Switch an automation's polling on or off (takes effect at the next minute's dispatch).

    Enabling with "start": "now" moves the start point to now: records made while it was
    disabled do not fire. With "all" or a date it continues from its cursor.
    """
    now = now or timezone.now()
    automation = Automation.objects.select_for_update().get(pk=automation.pk)
    if automation.enabled == enabled:
        return automation
    automation.enabled = enabled
    if getattr(user, "pk", None):
        automation.updated_by = user
    automation.save(update_fields=["enabled", "updated_by", "updated_at"])
    subscription = TriggerSubscription.objects.filter(automation=automation).first()
    if enabled and subscription is not None:
        start = (subscription.options or {}).get(START_OPTION, "now")
        fields: dict[str, Any] = {"next_poll_at": now, "consecutive_failures": 0}
        if start == "now":
            fields["start_from"] = start_moment(start, now)
            fields["backlog_remaining"] = None
        TriggerSubscription.objects.filter(pk=subscription.pk).update(**fields)
    return automation


@transaction.atomic
def subscription_update(
    *,
    subscription: TriggerSubscription,
    poll_interval_minutes: int | None = None,
    options: dict[str, Any] | None = None,
) -> TriggerSubscription:
    """Change how often and what a subscription polls (its cursor and start stay)."""
    fields: dict[str, Any] = {}
    if poll_interval_minutes is not None:
        fields["poll_interval_minutes"] = _clean_interval(poll_interval_minutes)
    if options is not None:
        cleaned = _clean_trigger(subscription.trigger_id, options)
        # The start point is fixed when enabled; a changed start option applies on enabling.
        fields["options"] = cleaned
    if fields:
        TriggerSubscription.objects.filter(pk=subscription.pk).update(**fields)
        subscription.refresh_from_db()
    return subscription


@transaction.atomic
def events_replay(
    *,
    automation: Automation,
    detected_from: dt.datetime,
    detected_until: dt.datetime,
    user: Any = None,
) -> list[TriggerEvent]:
    """Deliver the automation's events detected in [from, until) again, as new replay events.

    Each replay is a new event marked `is_replay` (pointing at the original), with its own runs
    of the automation's current steps, queued when this commits. Replays are never replayed.
    """
    if detected_until <= detected_from:
        raise ValidationError("The end of the replay window must be after its start.")
    originals = list(
        TriggerEvent.objects.filter(
            automation=automation,
            is_replay=False,
            detected_at__gte=detected_from,
            detected_at__lt=detected_until,
        ).order_by("record_timestamp", "entity_id")
    )
    now = timezone.now()
    user = user if getattr(user, "pk", None) else None
    replays = [
        TriggerEvent(
            subscription_id=original.subscription_id,
            automation=automation,
            automation_name=automation.name,
            connection_id=original.connection_id,
            trigger_id=original.trigger_id,
            entity_id=original.entity_id,
            entity_key=original.entity_key,
            dedup_key=original.dedup_key,
            record=original.record,
            changes=original.changes,
            record_timestamp=original.record_timestamp,
            detected_at=now,
            lag_seconds=original.lag_seconds,
            is_replay=True,
            replay_of=original,
            replayed_by=user,
        )
        for original in originals
    ]
    if not replays:
        return []
    TriggerEvent.objects.bulk_create(replays)
    runs = runs_create_for_events(replays)
    with_runs = sorted({run.event_id for run in runs})
    if with_runs:
        transaction.on_commit(lambda: runs_enqueue_for_events(with_runs))
    return replays
