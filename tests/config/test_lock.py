"""The lock files pin every dependency pyproject.toml names, at a version it allows."""

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.shared_data import REPO_DIR

LOCKED_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def locked_versions(extra: str) -> dict[str, str]:
    text = (REPO_DIR / "requirements" / f"{extra}.txt").read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in LOCKED_LINE.findall(text)}


@pytest.mark.parametrize("extra", ["dev", "production"])
def test_the_lock_pins_every_dependency_pyproject_names(extra):
    project = tomllib.loads((REPO_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(text) for text in project["dependencies"]]
    wanted += [Requirement(text) for text in project["optional-dependencies"][extra]]
    locked = locked_versions(extra)
    out_of_date = [
        str(requirement)
        for requirement in wanted
        if canonicalize_name(requirement.name) not in locked
        or not requirement.specifier.contains(locked[canonicalize_name(requirement.name)])
    ]
    assert not out_of_date, (
        f"requirements/{extra}.txt is out of date (run `make lock`): {out_of_date}"
    )


def test_requests_oauthlib_is_locked_for_the_tests_only():
    # Only the tests sign with requests-oauthlib; the portal itself never imports it.
    assert "requests-oauthlib" not in locked_versions("production")
    assert "requests-oauthlib" in locked_versions("dev")
