"""Who holds a poll lease or runs a step, and whether that process is still alive.

A poll lease and a running step name their process "host:pid" (a lease adds a random part).
When that host is this machine and the process no longer exists (it was killed, or crashed),
nobody will finish the work: recovery may take it over at once instead of waiting for the lease
or the worker timeout to run out. A process on another machine cannot be checked from here, so
its work is only taken over when its time runs out. Each machine (or container) must therefore
have a host name of its own, as Docker, systemd and cloud machines give by default.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

HOST_LENGTH = 30


def this_host() -> str:
    """This machine's name as process names carry it."""
    return platform.node()[:HOST_LENGTH]


def this_worker() -> str:
    """The name of this process: "host:pid"."""
    return f"{this_host()}:{os.getpid()}"


def owner_is_dead(owner: str) -> bool:
    """True when `owner` ("host:pid" or "host:pid:anything") is a process of this machine that
    no longer runs. Unknown names, other machines and live processes are False."""
    host, _, rest = (owner or "").partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != this_host() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid <= 0 or pid == os.getpid():
        return False
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    # A killed process nobody has reaped yet (a zombie) still answers signal 0; it runs nothing.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
