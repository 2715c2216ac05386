"""Django's SQLite backend, making the database's folder when it first opens the file.

Settings only name the file: loading them (to print a path, or to run the test suite) must not
create folders in the project.
"""
