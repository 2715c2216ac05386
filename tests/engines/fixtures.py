"""Fixtures for tests of the portal's real processes on SQLite, or on PostgreSQL with Redis.

PostgreSQL and Redis come from two variables, set by .ci/run (which starts both on 127.0.0.1):

- PORTAL_TEST_POSTGRES_URL: a server and a role that may create databases; every test gets a
  database of its own, dropped afterwards;
- PORTAL_TEST_REDIS_URL: a Redis database the tests may empty (each test starts with it empty).

Without them a test that needs one is skipped locally, and fails in CI (CI=true), so CI can never
pass by silently skipping the engine tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

import pytest

from tests.engines.portal import PortalProcesses

POSTGRES_VARIABLE = "PORTAL_TEST_POSTGRES_URL"
REDIS_VARIABLE = "PORTAL_TEST_REDIS_URL"


def running_in_ci(environ: Mapping[str, str]) -> bool:
    """CI services set CI=true (.ci/run does too)."""
    return environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def engine_url(variable: str, environ: Mapping[str, str] = os.environ) -> str:
    """The URL in `variable`; without it, skip the test locally and fail it in CI."""
    url = environ.get(variable, "").strip()
    if url:
        return url
    if running_in_ci(environ):
        pytest.fail(
            f"{variable} is not set, and CI must run the engine tests: run CI through .ci/run, "
            "which starts PostgreSQL and Redis and sets it.",
            pytrace=False,
        )
    pytest.skip(f"{variable} is not set (see README, Running the tests: engine tests)")


def server_name(url: str) -> str:
    """host:port of a URL, for messages (never its password)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


@pytest.fixture
def postgres_url():
    """A new, empty PostgreSQL database for this test, dropped afterwards; its URL."""
    import psycopg
    from psycopg import sql

    server = engine_url(POSTGRES_VARIABLE)
    name = f"portal_test_{uuid.uuid4().hex[:16]}"
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=10) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        pytest.fail(
            f"PostgreSQL at {server_name(server)} ({POSTGRES_VARIABLE}) cannot make a test "
            f"database: {error}",
            pytrace=False,
        )
    yield urlsplit(server)._replace(path=f"/{name}").geturl()
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as connection:
        # FORCE: a worker killed by the test may have left its connection behind.
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def redis_url():
    """The Redis database of PORTAL_TEST_REDIS_URL, emptied before and after this test."""
    import redis

    url = engine_url(REDIS_VARIABLE)
    client = redis.Redis.from_url(url, socket_connect_timeout=10)
    try:
        client.flushdb()
    except redis.RedisError as error:
        client.close()
        pytest.fail(
            f"Redis at {server_name(url)} ({REDIS_VARIABLE}) cannot be used: {error}",
            pytrace=False,
        )
    yield url
    client.flushdb()
    client.close()


ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql-redis", marks=pytest.mark.engines),
]


@pytest.fixture(params=ENGINES)
def portal(request, tmp_path):
    """The portal on SQLite with the database as the queue, and on PostgreSQL with Redis.

    Nothing is started yet: call migrate(), start_worker(), start_web(). Every process started
    is stopped after the test.
    """
    if request.param == "postgresql":
        database_url = request.getfixturevalue("postgres_url")
        redis_url = request.getfixturevalue("redis_url")
    else:
        database_url, redis_url = f"sqlite:///{tmp_path / 'portal.sqlite3'}", None
    processes = PortalProcesses(tmp_path, database_url=database_url, redis_url=redis_url)
    yield processes
    processes.stop_all()
