"""A PostgreSQL cursor that sends values apart from the statement (server-side binding).

Django's cursors bind on the client: psycopg quotes every value into the SQL text, and
PostgreSQL parses it back out. For the statements that carry many rows as one array per
column (a page's events, a round's run results) that quoting is most of the cost, and each
different text is a statement parsed anew (`make bench`).
"""

from __future__ import annotations


def server_binding_cursor(connection):
    """A cursor on Django's PostgreSQL `connection` whose parameters travel apart from the
    statement, wrapped as Django wraps its own (so it is logged and instrumented the same)."""
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)
