"""Tasks the engine tests queue, and the code that queues them inside a portal process.

Workers import this module by its name, so it must stay importable from the project folder.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from tests.engines.portal import WORKER_VARIABLE

# A task gives up waiting for the other worker after this long (well below Q_TIMEOUT).
MEETING_LIMIT = 60.0


def meet_another_worker(folder: str) -> str:
    """Task: note which worker runs it, then wait until a task has run in another worker too.

    While a task waits, its worker is busy, so the queued tasks left over can only be taken by
    another worker: the tasks of a group all finish only when two workers both took some.
    Returns the name of the worker that ran it.
    """
    name = os.environ.get(WORKER_VARIABLE, "unnamed")
    meeting = Path(folder)
    (meeting / f"{name}.{uuid.uuid4().hex}").touch()
    deadline = time.monotonic() + MEETING_LIMIT
    while len({entry.name.split(".")[0] for entry in meeting.iterdir()}) < 2:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no other worker ran a task within {MEETING_LIMIT:.0f}s")
        time.sleep(0.05)
    return name


def queue_and_collect(function: str, *args, count: int, limit: float = 120.0) -> None:
    """Queue `count` tasks of `function(*args)`, wait until all have ended, print them as JSON.

    Runs inside a portal process (PortalProcesses.shell), with the portal's settings.
    """
    from django_q.models import Task
    from django_q.tasks import async_task

    group = f"engine-test-{uuid.uuid4().hex}"
    queued = [async_task(function, *args, group=group) for _ in range(count)]
    deadline = time.monotonic() + limit
    while Task.objects.filter(group=group).count() < count and time.monotonic() < deadline:
        time.sleep(0.1)
    ended = [
        {"id": task.id, "success": task.success, "result": task.result}
        for task in Task.objects.filter(group=group).order_by("started")
    ]
    print(json.dumps({"queued": queued, "ended": ended}))
