"""The benchmark's throwaway databases, Django set up on them, and fast bulk filling.

SQLite by default: a file in the run's temporary folder (the portal's own SQLite settings: WAL,
IMMEDIATE transactions). When DATABASE_URL points at PostgreSQL, each database is created on
that server under a new name (portal_bench_<pid>_<name>) and dropped at the end: the
benchmark never writes into the database DATABASE_URL names.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")
DROP_ATTEMPTS = 10  # each plain DROP waits up to 5 s for the database's other sessions


def postgres_server_url() -> str | None:
    """DATABASE_URL when it points at PostgreSQL (as libpq reads it), else None."""
    url = os.environ.get("DATABASE_URL", "").strip()
    scheme = urlsplit(url).scheme.lower() if url else ""
    if scheme not in POSTGRES_SCHEMES:
        return None
    return urlunsplit(("postgresql", *urlsplit(url)[1:]))


class Databases:
    """Creates the run's databases (`create(name)` returns a DATABASE_URL) and drops them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server_url = postgres_server_url()
        self.vendor = "postgresql" if self.server_url else "sqlite"
        self._made: list[str] = []

    def __enter__(self) -> Databases:
        return self

    def __exit__(self, *exc_info) -> None:
        self.drop_all()

    def create(self, name: str) -> str:
        if self.server_url is None:
            return f"sqlite:///{self.folder / f'{name}.sqlite3'}"
        import psycopg  # the production extra's driver; only needed for PostgreSQL

        database = f"portal_bench_{os.getpid()}_{name}"
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')
        self._made.append(database)
        parts = urlsplit(self.server_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))

    def drop_all(self) -> None:
        """Drop the run's databases. A database still in use a minute on is left behind, with a
        warning naming it (the figures are printed all the same)."""
        if not self._made:
            return
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True) as connection:
            for database in self._made:
                for attempt in range(DROP_ATTEMPTS):
                    try:
                        # A plain DROP stops an autovacuum worker busy in the database (a fresh
                        # 100,000 rows invite one) and waits 5 s for other sessions to end;
                        # FORCE would refuse, as that worker is not our role's.
                        connection.execute(f'DROP DATABASE IF EXISTS "{database}"')
                        break
                    except psycopg.errors.ObjectInUse:
                        if attempt == DROP_ATTEMPTS - 1:
                            print(
                                f"benchmark: could not drop database {database} (still in "
                                "use); drop it by hand",
                                file=sys.stderr,
                            )
                        time.sleep(1.0)
        self._made.clear()


def child_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of a benchmark process using `database_url`."""
    return {
        **os.environ,
        "BENCH_DATABASE_URL": database_url,
        "BENCH_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
    }


def django_start(database_url: str, data_dir: Path, *, migrate: bool = False) -> None:
    """Set Django up in this process on `database_url` (and migrate it when asked)."""
    os.environ.update(child_environment(database_url, data_dir))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


# -- bulk filling ----------------------------------------------------------------------------
# Rows are made by the database itself (INSERT ... SELECT over a generated series of numbers
# `n`), so a million rows cost no Python per row. Columns not given as SQL take the values of a
# template instance, so a column added to a model later gets its default without touching this.


def sql_series(vendor: str) -> str:
    """A FROM clause yielding n = %s .. %s."""
    if vendor == "postgresql":
        return "generate_series(%s::bigint, %s::bigint) AS series(n)"
    return (
        "(WITH RECURSIVE series(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM series "
        "WHERE n < %s) SELECT n FROM series)"
    )


def sql_sku(vendor: str) -> str:
    """'SKU-0000042' for n = 42."""
    if vendor == "postgresql":
        return "'SKU-' || lpad(n::text, 7, '0')"
    return "'SKU-' || printf('%%07d', n)"


def sql_text(vendor: str) -> str:
    return "n::text" if vendor == "postgresql" else "CAST(n AS TEXT)"


def sql_moment(vendor: str) -> str:
    """A timestamp n seconds after 2024-01-01 00:00 UTC (as Django stores it)."""
    if vendor == "postgresql":
        return "(timestamptz '2024-01-01 00:00:00+00' + n * interval '1 second')"
    return "strftime('%%Y-%%m-%%d %%H:%%M:%%f', '2024-01-01 00:00:00', '+' || n || ' seconds')"


def sql_json_sku(vendor: str) -> str:
    text = f"""'{{"sku": "' || {sql_sku(vendor)} || '"}}'"""
    return f"({text})::jsonb" if vendor == "postgresql" else text


def bulk_fill(model, template: Any, sql: dict[str, str], *, first: int, count: int) -> None:
    """Insert `count` rows numbered n = first .. first + count - 1 into `model`'s table.

    `sql` maps column names to SQL expressions of n; every other column takes `template`'s
    value (None: left out, so the column's NULL).
    """
    from django.db import connection, transaction

    columns: list[str] = []
    selected: list[str] = []
    params: list[Any] = []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        column = field.column
        if column in sql:
            columns.append(column)
            selected.append(sql[column])
            continue
        value = field.get_db_prep_save(field.pre_save(template, add=True), connection)
        if value is None:
            continue
        columns.append(column)
        selected.append("%s")
        params.append(value)
    quote = connection.ops.quote_name
    # Quoted names from the model and SQL written here; every value is a parameter.
    names = ", ".join(quote(c) for c in columns)
    statement = f"INSERT INTO {quote(model._meta.db_table)} ({names}) SELECT {', '.join(selected)} FROM {sql_series(connection.vendor)}"  # noqa: E501, S608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [*params, first, first + count - 1])
