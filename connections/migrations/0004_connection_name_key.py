"""Names are unique by a key folded in Python (NFKC + casefold), not by the database's LOWER().

SQLite's LOWER() folds ASCII only, so "Ärger Shop" and "ärger shop" could both be saved, and the
duplicate check (Python's lower()) and the index disagreed. Rows saved before that may clash under
the new key: the later ones get " (2)", " (3)", ... appended to their name, so none is lost.
The constraint moves to the key in the next migration: on PostgreSQL, altering a table after
changing its rows in the same transaction can fail ("pending trigger events").
"""

import unicodedata

from django.db import migrations, models

import connections.models

MAX_NAME_LENGTH = 100


def _key(name: str) -> str:
    # A copy of connections.models.connection_name_key as of this migration.
    folded = unicodedata.normalize("NFKC", name.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def fill_name_keys(apps, schema_editor):
    Connection = apps.get_model("connections", "Connection")
    taken: set[str] = set()
    for pk, name in Connection.objects.order_by("pk").values_list("pk", "name"):
        new_name, key, number = name, _key(name), 1
        while key in taken:
            number += 1
            suffix = f" ({number})"
            new_name = name.strip()[: MAX_NAME_LENGTH - len(suffix)] + suffix
            key = _key(new_name)
        taken.add(key)
        # update(), not save(): the rows' other columns and updated_at stay as they are.
        Connection.objects.filter(pk=pk).update(name=new_name, name_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0003_sign_in_refusal"),
    ]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="name_key",
            field=connections.models.NameKeyField(default="", max_length=400),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
    ]
