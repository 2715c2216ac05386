"""Automations: a polling trigger on a store feeding ordered action steps, and what ran.

The models of triggers (issue "Triggers") and of actions and runs (issue "Actions, automations
and runs") are designed together:

    Automation 1-1 TriggerSubscription (connection, trigger id, options, cursor, schedule, lease)
    Automation 1-n AutomationStep      (position, action id, connection, input mapping)
    TriggerSubscription 1-n TriggerEvent (one per record the trigger found; unique per dedup key)
    TriggerEvent 1-n ActionRun          (one per step, executed in order)
    ActionRun (no event)                (manual runs: the "Run an action" page, run_action)

History (events and runs) outlives the automation that made it: their links to automations,
subscriptions and steps are SET_NULL, and each keeps the names needed to read it alone.
Connections used by an automation are PROTECTed: delete or change the automation first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from automations.fields import StoredJSONField
from connections.models import Connection, TimeStampedModel

MIN_POLL_INTERVAL_MINUTES = 1
MAX_POLL_INTERVAL_MINUTES = 60
DEFAULT_POLL_INTERVAL_MINUTES = 5
DEFAULT_LOOKBACK_SECONDS = 120
DEFAULT_MAX_ATTEMPTS = 5


class Automation(TimeStampedModel):
    """A named trigger-then-steps chain; `enabled` switches its polling on and off."""

    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="automation_name_unique_ci")]
        permissions = [
            ("poll_automation", "Can poll an automation now"),
            ("test_automation", "Can test an automation's steps on a sample record"),
        ]

    def __str__(self) -> str:
        return self.name


class PollOutcome(models.TextChoices):
    NEVER = "never", "Not polled yet"
    OK = "ok", "OK"
    FAILED = "failed", "Failed"


class TriggerSubscription(TimeStampedModel):
    """What an automation watches, and where its walk through the store has got to.

    The cursor is the last (timestamp, entity id) pair the poller has turned into events, in
    the store's UTC; `start_from` is the earliest record timestamp that may fire (set from the
    "start" option: "now" = the moment it was enabled, a date, or None for "all").
    """

    automation = models.OneToOneField(Automation, on_delete=models.CASCADE, related_name="trigger")
    connection = models.ForeignKey(
        Connection, on_delete=models.PROTECT, related_name="trigger_subscriptions"
    )
    trigger_id = models.CharField("Trigger", max_length=64)
    options = models.JSONField(default=dict, blank=True)
    poll_interval_minutes = models.PositiveSmallIntegerField(
        "Poll every (minutes)", default=DEFAULT_POLL_INTERVAL_MINUTES
    )
    lookback_seconds = models.PositiveIntegerField(
        "Look-back window (seconds)", default=DEFAULT_LOOKBACK_SECONDS
    )

    start_from = models.DateTimeField(null=True, blank=True)
    cursor_timestamp = models.DateTimeField(null=True, blank=True)
    cursor_entity_id = models.BigIntegerField(null=True, blank=True)

    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_poll_outcome = models.CharField(
        max_length=16, choices=PollOutcome.choices, default=PollOutcome.NEVER
    )
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # Backlog progress: records the store reported still to come after the last page read
    # (its total_count), and how many this catch-up has fetched so far.
    backlog_remaining = models.PositiveIntegerField(null=True, blank=True)
    backlog_fetched = models.PositiveIntegerField(default=0)
    backlog_started_at = models.DateTimeField(null=True, blank=True)

    # Set when the dispatcher (or a poll with more to read) queued a poll that has not
    # started yet, so the next minute's dispatch does not queue a second one.
    poll_queued_at = models.DateTimeField(null=True, blank=True)
    # One poll at a time: a poller owns the subscription until lease_expires_at.
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    poll_interval_minutes__gte=MIN_POLL_INTERVAL_MINUTES,
                    poll_interval_minutes__lte=MAX_POLL_INTERVAL_MINUTES,
                ),
                name="subscription_poll_interval_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.automation} ({self.trigger_id})"

    @property
    def enabled(self) -> bool:
        """A subscription polls while its automation is enabled (one flag, one place)."""
        return self.automation.enabled


# The unique constraint that keeps a record from being delivered twice to a subscription.
UNIQUE_EVENT_CONSTRAINT = "trigger_event_unique_per_subscription"


class TriggerEvent(models.Model):
    """One record a trigger found (or a replay of one): the input of the automation's steps."""

    # No index of their own: each leads an index below (with the date), and every index is
    # written again for every event stored (`make bench`).
    subscription = models.ForeignKey(
        TriggerSubscription,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
    )
    automation = models.ForeignKey(
        Automation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
    )
    automation_name = models.CharField(max_length=200, blank=True, default="")
    connection = models.ForeignKey(
        Connection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    trigger_id = models.CharField(max_length=64)
    entity_id = models.BigIntegerField("Magento id")
    # What a person recognises: e-mail, order increment id, SKU.
    entity_key = models.CharField("Record", max_length=255, blank=True, default="")
    # Entity id for the "created" triggers; entity id and updated_at for customer_updated.
    dedup_key = models.CharField(max_length=128)
    # The record as the store sent it (on PostgreSQL `json`, kept as text: see StoredJSONField).
    record = StoredJSONField()
    # customer_updated: {"field": {"old": ..., "new": ...}} against the last snapshot seen.
    changes = models.JSONField(null=True, blank=True)
    record_timestamp = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(default=timezone.now, db_index=True)
    lag_seconds = models.FloatField(null=True, blank=True)
    is_replay = models.BooleanField(default=False)
    # Whether the event was stored with runs: its automation had steps then. Runs are made
    # only with their event, in its transaction, so this is what the event list's "No runs"
    # filter reads, through an index of the events without any (`make bench`).
    has_runs = models.BooleanField(default=False)
    replay_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replays"
    )
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            # The guarantee against duplicate events: a record is delivered once per
            # subscription (replays are new deliveries and are marked as such).
            models.UniqueConstraint(
                fields=["subscription", "dedup_key"],
                condition=models.Q(is_replay=False),
                name=UNIQUE_EVENT_CONSTRAINT,
            ),
        ]
        indexes = [
            models.Index(fields=["subscription", "-detected_at"], name="event_sub_detected"),
            models.Index(fields=["automation", "-detected_at"], name="event_automation_detected"),
            models.Index(fields=["trigger_id", "-detected_at"], name="event_trigger_detected"),
            models.Index(fields=["entity_key"], name="event_entity_key"),
            models.Index(fields=["entity_id"], name="event_entity_id"),
            # The history list's filters, each with its default order (newest first).
            models.Index(fields=["connection", "-detected_at"], name="event_connection_detected"),
            models.Index(fields=["is_replay", "-detected_at"], name="event_replay_detected"),
            models.Index(
                fields=["-detected_at", "-id"],
                condition=models.Q(has_runs=False),
                name="event_without_runs",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id} {self.entity_key or self.entity_id}"


class EntitySnapshot(models.Model):
    """The last version of a record a subscription has seen (customer_updated's changed fields)."""

    subscription = models.ForeignKey(
        TriggerSubscription, on_delete=models.CASCADE, related_name="snapshots"
    )
    entity_id = models.BigIntegerField()
    data = models.JSONField()
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "entity_id"], name="snapshot_unique_per_entity"
            )
        ]

    def __str__(self) -> str:
        return f"snapshot of {self.entity_id}"


class AutomationStep(TimeStampedModel):
    """One action of an automation, run on a connection with inputs mapped from earlier data.

    `inputs` maps the action's input names to a literal value or a template that refers to the
    trigger record and earlier steps' output: "{{ trigger.email }}", "{{ steps.1.id }}".
    """

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    action_id = models.CharField("Action", max_length=64)
    connection = models.ForeignKey(
        Connection, on_delete=models.PROTECT, related_name="automation_steps"
    )
    inputs = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["automation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["automation", "position"], name="step_position_unique"),
            models.CheckConstraint(condition=models.Q(position__gte=1), name="step_position_min"),
        ]

    def __str__(self) -> str:
        return f"{self.automation} step {self.position}: {self.action_id}"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED)


class StartedBy(models.TextChoices):
    TRIGGER = "trigger", "Trigger"
    USER = "user", "A person"
    COMMAND = "command", "Command line"
    TEST = "test", "Automation test"


class ActionRun(models.Model):
    """One execution of one action: its inputs, the request, Magento's answer and the outcome.

    A trigger event makes one run per step (unique per event and position); steps run in
    order, and when one fails for good the later ones are skipped. Transient failures wait in
    PENDING until `next_attempt_at`. Secrets never reach these columns.
    """

    # No index of its own: it leads the (event, status) index below.
    event = models.ForeignKey(
        TriggerEvent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="runs",
        db_index=False,
    )
    # No index of its own (nor has connection): each leads an index below, with the date.
    automation = models.ForeignKey(
        Automation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        db_index=False,
    )
    automation_name = models.CharField(max_length=200, blank=True, default="")
    step = models.ForeignKey(
        AutomationStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    step_position = models.PositiveSmallIntegerField(null=True, blank=True)
    action_id = models.CharField("Action", max_length=64)
    connection = models.ForeignKey(
        Connection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    connection_name = models.CharField(max_length=100, blank=True, default="")

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    started_by = models.CharField(
        max_length=16, choices=StartedBy.choices, default=StartedBy.TRIGGER
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # The mapping as configured and the values it resolved to (secrets redacted).
    input_mapping = models.JSONField(null=True, blank=True)
    inputs = models.JSONField(null=True, blank=True)
    # What a person recognises in the run list: e-mail, SKU, order increment id.
    subject = models.CharField(max_length=255, blank=True, default="")
    request_method = models.CharField(max_length=8, blank=True, default="")
    request_path = models.CharField(max_length=1000, blank=True, default="")
    response = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error_class = models.CharField(max_length=100, blank=True, default="")
    error_message = models.TextField(blank=True, default="")

    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=DEFAULT_MAX_ATTEMPTS)
    # One entry per attempt: {"attempt", "started_at", "finished_at", "outcome", "error"}.
    attempt_log = models.JSONField(default=list, blank=True)
    # The process running it ("host:pid"): a run whose process has stopped is resolved at once.
    worker = models.CharField(max_length=64, blank=True, default="")
    # What a create noted before sending (the order's shipments so far), kept while it runs so
    # a run whose worker stopped can still tell whether its write reached the store.
    memo = models.JSONField(null=True, blank=True)
    queued_at = models.DateTimeField(default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            # One run per step of an event: a re-poll, a crash or a second worker cannot make
            # a second shipment for the same order.
            models.UniqueConstraint(
                fields=["event", "step_position"],
                condition=models.Q(event__isnull=False),
                name="action_run_unique_per_event_step",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="action_run_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-queued_at"], name="run_status_queued"),
            # An event's runs, and the event list's run status filter: one lookup per event
            # answers "has it a failed run?" without reading the runs themselves.
            models.Index(fields=["event", "status"], name="run_event_status"),
            models.Index(fields=["automation", "-queued_at"], name="run_automation_queued"),
            models.Index(fields=["action_id", "-queued_at"], name="run_action_queued"),
            models.Index(fields=["connection", "-queued_at"], name="run_connection_queued"),
            models.Index(fields=["status", "next_attempt_at"], name="run_due"),
            models.Index(fields=["subject"], name="run_subject"),
            # Runs started by a person are rare among trigger runs: filtering them must not
            # walk the whole table.
            models.Index(fields=["started_by", "-queued_at"], name="run_started_by_queued"),
        ]
        permissions = [("execute_action", "Can run an action by hand and retry runs")]

    def __str__(self) -> str:
        return f"{self.action_id} #{self.pk} ({self.status})"


class AlertKind(models.TextChoices):
    POLLS = "polls", "Polls keep failing"
    RUNS = "runs", "A run failed for good"


class AlertSubscription(models.Model):
    """A staff user's choice of e-mail alerts (each user edits their own on "My alerts")."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="automation_alerts"
    )
    poll_failures = models.BooleanField(
        "E-mail me when an automation's polls keep failing", default=True
    )
    run_failures = models.BooleanField("E-mail me when a run fails for good", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"alerts of {self.user}"


class AlertState(models.Model):
    """Whether an automation has an open problem of one kind, and when it was last e-mailed.

    One row per automation and kind; the hourly limit counts every kind of the automation.
    """

    automation = models.ForeignKey(
        Automation, on_delete=models.CASCADE, related_name="alert_states"
    )
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    failing_since = models.DateTimeField(null=True, blank=True)
    # An alert went out for the current problem: a "recovered" e-mail is owed when it ends.
    alerted = models.BooleanField(default=False)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # Failures not e-mailed because of the hourly limit (told in the next e-mail).
    held_back = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # Runs: the highest step that failed; a later success at or after it means it works again.
    step_position = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["automation", "kind"], name="alert_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.automation} {self.kind}"
