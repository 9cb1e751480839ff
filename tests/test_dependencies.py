"""The lock files pin and hash every package, and agree with the requirements files they
are compiled from (`make lock`): a pin changed without relocking fails here."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: str) -> dict[str, str]:
    return {normalised(name): version for name, version in PIN.findall((REPO / path).read_text())}


def locked_entries(path: str) -> list[str]:
    """One text per package of a lock file: its pin line and the hash lines after it."""
    return re.split(r"\n(?=[A-Za-z0-9])", (REPO / path).read_text().split("\n", 2)[2])


@pytest.mark.parametrize(
    ("requirements", "lock"),
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_every_direct_requirement_is_locked_at_its_pinned_version(requirements, lock):
    locked = pins(lock)

    for name, version in pins(requirements).items():
        assert locked.get(name) == version, f"{name}=={version} in {requirements}: `make lock`"


def test_the_image_runs_the_versions_the_tests_ran():
    development = pins("requirements-dev.lock")

    for name, version in pins("requirements.lock").items():
        assert development.get(name) == version, name


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_is_pinned_and_hashed(lock):
    entries = [entry for entry in locked_entries(lock) if entry.strip()]

    assert len(entries) > 20
    for entry in entries:
        assert PIN.match(entry), entry.splitlines()[0]
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), entry.splitlines()[0]


def test_the_dockerfile_installs_the_lock_with_hashes_on_a_base_pinned_by_digest():
    dockerfile = (REPO / "Dockerfile").read_text()

    assert "--require-hashes -r requirements.lock" in dockerfile
    assert re.search(r"^FROM python:[\w.-]+@sha256:[0-9a-f]{64}$", dockerfile, re.MULTILINE)


def test_make_install_installs_the_development_lock_with_hashes():
    makefile = (REPO / "Makefile").read_text()

    assert "--require-hashes \\\n\t\t-r requirements-dev.lock" in makefile
