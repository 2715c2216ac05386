"""The benchmark's measured processes: `python -m benchmarks.child JOB 'JSON ARGUMENTS'`.

Each prints one JSON line with its figures, including its own peak RSS (ru_maxrss), so memory
is the polling process's alone: the sandbox store lives in the parent.

- poll: drain a subscription's backlog with the real poll service, poll after poll, as the
  worker's follow-up polls would (Django on the benchmark's database).
- raw: the floor for the same walk: a bare `requests` loop fetching the same pages and
  decoding their JSON, nothing else (no Django).
- history: the admin lists of runs and events at two sizes (Django on its own database).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB.

    On Linux, VmHWM of /proc/self/status: ru_maxrss (getrusage) survives exec, and Python
    starts children with vfork, so a child's ru_maxrss is at least the parent's peak (here the
    parent holds the whole sandbox store). VmHWM belongs to the memory map made by exec.
    Elsewhere, ru_maxrss (bytes on macOS, KiB on the BSDs).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def poll(arguments: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.database import django_start

    django_start(arguments["database_url"], Path(arguments["data_dir"]))
    from automations.polling import subscription_poll

    events = fetched = requests = polls = 0
    cpu = time.process_time()
    began = time.perf_counter()
    while True:
        result = subscription_poll(subscription_id=arguments["subscription_id"])
        polls += 1
        if not result.ok:
            raise SystemExit(f"benchmark poll failed: {result.error}")
        events += result.new_events
        fetched += result.fetched
        requests += result.requests
        if not result.more:
            break
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "events": events,
        "fetched": fetched,
        "requests": requests,
        "polls": polls,
        "peak_rss_kib": peak_rss_kib(),
    }


def raw(arguments: dict[str, Any]) -> dict[str, Any]:
    import requests

    from magento.search import KeysetPosition, SearchCriteria, keyset_criteria, parse_magento_time
    from magento.store_domain import encode_query

    page_size = arguments["page_size"]
    url = arguments["url"]
    records = pages = 0
    position = None
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Bearer {arguments['token']}", "Accept": "application/json"}
    )
    cpu = time.process_time()
    began = time.perf_counter()
    while True:
        # The poll's own page: created_at and id after the last record read, oldest first.
        criteria = keyset_criteria(
            SearchCriteria(),
            timestamp_field="created_at",
            id_field="entity_id",
            after=position,
            since=None,
            page_size=page_size,
        )
        response = session.get(f"{url}?{encode_query(criteria.to_query())}", timeout=60)
        response.raise_for_status()
        items = response.json()["items"]
        pages += 1
        records += len(items)
        if len(items) < page_size:
            break
        last = items[-1]
        position = KeysetPosition(parse_magento_time(last["created_at"]), last["entity_id"])
    seconds = time.perf_counter() - began
    session.close()
    return {
        "seconds": seconds,
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "records": records,
        "requests": pages,
        "peak_rss_kib": peak_rss_kib(),
    }


def history(arguments: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.database import django_start

    django_start(arguments["database_url"], Path(arguments["data_dir"]), migrate=True)
    from benchmarks.history import history_measure

    return history_measure(
        small=arguments["small"],
        large=arguments["large"],
        sku=arguments["sku"],
        repeats=arguments["repeats"],
    )


JOBS = {"poll": poll, "raw": raw, "history": history}

if __name__ == "__main__":
    job, arguments = sys.argv[1], json.loads(sys.argv[2])
    profile_dir = os.environ.get("BENCH_PROFILE")
    if profile_dir:
        # A developer's look inside (cProfile, this thread only): BENCH_PROFILE=folder keeps
        # each job's statistics there as JOB-PID.prof. The figures then include its overhead.
        import cProfile

        profiler = cProfile.Profile()
        figures = profiler.runcall(JOBS[job], arguments)
        Path(profile_dir).mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(str(Path(profile_dir) / f"{job}-{os.getpid()}.prof"))
    else:
        figures = JOBS[job](arguments)
    sys.stdout.write(json.dumps(figures) + "\n")
