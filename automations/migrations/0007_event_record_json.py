"""On PostgreSQL, events' records are kept as `json` (the text as the store sent it) instead of
`jsonb`, compressed with lz4 instead of pglz when the server has it.

Writing a polled page of 100 orders (`make bench`), PostgreSQL spent most of its time taking
600 KB of JSON apart into `jsonb` and compressing it with pglz; `json` text is only checked, and
lz4 compresses several times faster. The portal reads records whole and never queries inside
them. Existing records are converted once (the table is rewritten). Nothing changes on SQLite
(the model's field keeps JSON as text there already).
"""

from django.db import migrations

import automations.fields

TABLE = "automations_triggerevent"


def _has_lz4(cursor) -> bool:
    cursor.execute(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def record_json(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN record TYPE json USING record::json")
        if _has_lz4(cursor):
            cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN record SET COMPRESSION lz4")


def record_jsonb(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN record SET COMPRESSION default")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN record TYPE jsonb USING record::jsonb")


class Migration(migrations.Migration):
    dependencies = [
        ("automations", "0006_run_event_status_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(record_json, record_jsonb, elidable=False),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="triggerevent",
                    name="record",
                    field=automations.fields.StoredJSONField(),
                ),
            ],
        ),
    ]
