"""add_connection and test_connection run as a shop owner runs them: the result on standard
output, explanations on standard error, and no log lines in either, whatever LOG_LEVEL says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.connections.helpers import SECRETS, assert_no_secret

REPO_ROOT = Path(__file__).resolve().parents[2]
# The portal's log format (config/settings/base.py): "2026-01-31 12:00:00,123 INFO name message".
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ \S+ ", re.MULTILINE)


class NotMagento(BaseHTTPRequestHandler):
    """A web server that is not a Magento store: every path is an HTML 404."""

    def do_GET(self):
        body = b"<html><body>Not here</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def not_magento():
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotMagento)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run manage.py as a shop owner would, with its own data folder and every log level on."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO_ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "ENV_FILE": str(tmp_path / "none.env"),
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "DEBUG",
        "ALLOW_PRIVATE_NETWORK_TARGETS": "true",
    }
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_no_log_line_reaches_the_output_of_a_real_run(tmp_path, not_magento):
    migrated = manage(tmp_path, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr

    added = manage(
        tmp_path,
        "add_connection",
        "--name",
        "Local",
        "--store-domain",
        not_magento,
        "--allow-plain-http",
        "--access-token",
        SECRETS["access_token"],
        "--save-anyway",
    )
    assert added.returncode == 1, added.stderr
    assert json.loads(added.stdout) == {
        "id": 1,
        "name": "Local",
        "status": "failed",
        "diagnosis": "not_magento",
    }
    assert "Warning: this store is reached over plain http://" in added.stderr
    assert "/rest" in added.stderr  # the diagnosis, in words

    tested = manage(tmp_path, "test_connection", "local")
    assert tested.returncode == 1, tested.stderr
    assert tested.stdout == "Local: failed (not_magento)\n"
    assert "/rest" in tested.stderr

    for output in (added.stdout, added.stderr, tested.stdout, tested.stderr):
        assert not LOG_LINE.search(output), output
        assert_no_secret(output)
