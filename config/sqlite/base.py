"""The SQLite backend of the default settings (`ENGINE = "config.sqlite"`)."""

from pathlib import Path

from django.db.backends.sqlite3 import base

from config.settings.sources import private_folder


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite wrapper; the folder of a database file is made before it is opened."""

    def get_new_connection(self, conn_params):
        name = conn_params["database"]
        # A "file:" URI (Django opens with uri=True) is the user's own business.
        if not self.creation.is_in_memory_db(name) and not str(name).startswith("file:"):
            # Owner-only when it is made here: the database holds sessions and password hashes.
            private_folder(Path(name).parent)
        return super().get_new_connection(conn_params)
