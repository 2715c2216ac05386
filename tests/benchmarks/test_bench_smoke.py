"""A tiny `make bench`: every part runs end to end and its JSON line carries sane figures.

Only what does not depend on the machine's speed is asserted (counts, presence, signs);
timings are the benchmark's business, not the suite's.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
KEYS = {
    "ingest_ratio",
    "ingest_events_per_s",
    "raw_events_per_s",
    "rss_ratio",
    "idle_poll_requests",
    "requests_per_1000_new",
    "run_ratio",
    "runs_per_s",
    "history_time_ratio",
    "history_query_delta",
    "sandbox_seed_s",
    "sandbox_keyset_page_ms",
}
NEW_ORDERS = 150
PAGE_SIZE = 100  # automations.polling.PAGE_SIZE


@pytest.mark.timeout(600)
def test_a_small_bench_prints_every_figure_as_its_last_line():
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--orders=450",
            "--small-orders=120",
            f"--new-orders={NEW_ORDERS}",
            "--runs=30",
            "--history-rows=600",
            "--history-small=50",
            "--history-repeats=1",
            "--sandbox-orders=500",
            "--sandbox-changed=20",
            "--sandbox-rounds=1",
        ],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = completed.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert not KEYS - set(figures), KEYS - set(figures)
    assert "summary (sqlite" in completed.stdout
    assert "WARNING" not in completed.stdout
    # Behaviour, not speed: an idle poll asks once; new orders cost their pages plus one.
    assert figures["idle_poll_requests"] == 1
    assert 1 < figures["requests_per_1000_new"] <= math.ceil(NEW_ORDERS / PAGE_SIZE) + 1
    for key in ("ingest_ratio", "rss_ratio", "run_ratio", "history_time_ratio"):
        assert 0 < figures[key] < 1000, key
    for key in ("ingest_events_per_s", "raw_events_per_s", "runs_per_s"):
        assert figures[key] > 0, key
    # Both sizes of the run list were served with the same queries counted on each.
    assert isinstance(figures["history_query_delta"], int)
    assert "action runs: unfiltered" in figures["history_views"]
