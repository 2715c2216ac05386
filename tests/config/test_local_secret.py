"""Secrets generated for local runs: made once, never left empty, one secret for every process."""

import multiprocessing
import os

import pytest

from config.settings import sources
from config.settings.sources import local_secret


def test_a_secret_is_made_once_readable_by_the_owner_only(tmp_path):
    first = local_secret(tmp_path / "data", "secret_key")
    assert len(first) >= 40
    path = tmp_path / "data" / "secret_key"
    assert path.stat().st_mode & 0o077 == 0
    assert local_secret(tmp_path / "data", "secret_key") == first
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no temporary left


@pytest.mark.parametrize("content", ["", "  \n"])
def test_an_empty_file_left_by_an_interrupted_start_counts_as_missing(tmp_path, content):
    (tmp_path / "cryptography_key").write_text(content)
    secret = local_secret(tmp_path, "cryptography_key")
    assert len(secret) >= 40
    assert (tmp_path / "cryptography_key").read_text() == secret
    assert local_secret(tmp_path, "cryptography_key") == secret


def test_an_interrupted_write_leaves_no_file_behind(tmp_path, monkeypatch):
    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(sources.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        local_secret(tmp_path, "secret_key")
    assert list(tmp_path.iterdir()) == []


def make_secret(args):
    directory, name, barrier = args
    barrier.wait()
    return local_secret(directory, name)


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    count = 8
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        barrier = manager.Barrier(count)
        with context.Pool(count) as pool:
            secrets = pool.map(make_secret, [(tmp_path, "secret_key", barrier)] * count)
    assert len(set(secrets)) == 1
    assert (tmp_path / "secret_key").read_text() == secrets[0]
    assert os.listdir(tmp_path) == ["secret_key"]
