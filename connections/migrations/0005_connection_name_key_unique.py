"""The unique constraint on names moves from LOWER(name) to the key filled by 0004."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0004_connection_name_key"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="connection",
            name="connection_name_unique_ci",
        ),
        migrations.AddConstraint(
            model_name="connection",
            constraint=models.UniqueConstraint(
                fields=("name_key",), name="connection_name_key_unique"
            ),
        ),
    ]
