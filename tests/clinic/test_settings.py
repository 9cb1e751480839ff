"""With DEBUG off, the settings refuse to load until the deployment is configured.

Settings are read once per process, so each case loads them in a fresh interpreter with
its own environment.
"""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REAL_SECRET_KEY = "k" * 50
# A key of the deployment's own (not the development key).
REAL_ENCRYPTION_KEY = "3bT4f7bQ0sQvX9o8m2r6yWl1cJ5nK8pA0dE2gH4jL6M="

LOAD_SETTINGS = "import django; django.setup(); print('settings loaded')"


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    # Start from a clean slate: the test process's own settings-related variables
    # (DEBUG, SECRET_KEY, DATABASE_URL...) must not leak into the case under test.
    names = (
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "EMAIL_URL",
        "REDIS_URL",
        "FIELD_ENCRYPTION_KEYS",
        "PHONE_LOOKUP_KEY",
    )
    base = {key: value for key, value in os.environ.items() if key not in names}
    if env.get("DEBUG") == "false":
        env = {"FIELD_ENCRYPTION_KEYS": REAL_ENCRYPTION_KEY, "PHONE_LOOKUP_KEY": "p" * 50} | env
    # The command is this interpreter and a constant string: nothing untrusted runs.
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", LOAD_SETTINGS],
        env=base | {"DJANGO_SETTINGS_MODULE": "clinic.settings"} | env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_refuses_to_start_without_a_secret_key():
    result = load_settings(DEBUG="false", ALLOWED_HOSTS="clinic.example.com")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "set SECRET_KEY" in result.stderr


def test_it_refuses_a_short_secret_key():
    result = load_settings(DEBUG="false", SECRET_KEY="short", ALLOWED_HOSTS="clinic.example.com")

    assert result.returncode != 0
    assert "set SECRET_KEY to a random string of at least 32 characters" in result.stderr


def test_it_refuses_the_development_secret_key():
    result = load_settings(
        DEBUG="false",
        SECRET_KEY="development-only-insecure-secret-key",
        ALLOWED_HOSTS="clinic.example.com",
    )

    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts():
    result = load_settings(DEBUG="false", SECRET_KEY=REAL_SECRET_KEY)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "set ALLOWED_HOSTS" in result.stderr


def test_it_refuses_to_start_without_a_phone_lookup_key():
    result = load_settings(
        DEBUG="false",
        SECRET_KEY=REAL_SECRET_KEY,
        ALLOWED_HOSTS="clinic.example.com",
        PHONE_LOOKUP_KEY="",
    )

    assert result.returncode != 0
    assert "set PHONE_LOOKUP_KEY" in result.stderr


def test_it_refuses_a_short_phone_lookup_key():
    result = load_settings(
        DEBUG="false",
        SECRET_KEY=REAL_SECRET_KEY,
        ALLOWED_HOSTS="clinic.example.com",
        PHONE_LOOKUP_KEY="short",
    )

    assert result.returncode != 0
    assert "PHONE_LOOKUP_KEY must be at least 32 characters" in result.stderr


def test_it_starts_with_a_secret_key_allowed_hosts_and_a_phone_lookup_key():
    result = load_settings(
        DEBUG="false",
        SECRET_KEY=REAL_SECRET_KEY,
        ALLOWED_HOSTS="clinic.example.com",
        PHONE_LOOKUP_KEY="p" * 50,
    )

    assert result.returncode == 0, result.stderr
    assert "settings loaded" in result.stdout


def test_it_starts_with_no_configuration_in_development():
    result = load_settings()

    assert result.returncode == 0, result.stderr


def test_it_refuses_to_start_without_encryption_keys():
    result = load_settings(
        DEBUG="false",
        SECRET_KEY=REAL_SECRET_KEY,
        ALLOWED_HOSTS="clinic.example.com",
        FIELD_ENCRYPTION_KEYS="",
    )

    assert result.returncode != 0
    assert "set FIELD_ENCRYPTION_KEYS" in result.stderr


def test_it_refuses_the_development_encryption_key():
    result = load_settings(
        DEBUG="false",
        SECRET_KEY=REAL_SECRET_KEY,
        ALLOWED_HOSTS="clinic.example.com",
        FIELD_ENCRYPTION_KEYS=f"{REAL_ENCRYPTION_KEY},kLMFRySXKk9Ee-tdoMVfCR9VDcw6ZUwAfp6_sxWXDsk=",
    )

    assert result.returncode != 0
    assert "set FIELD_ENCRYPTION_KEYS" in result.stderr


def test_it_refuses_an_encryption_key_that_is_no_key():
    result = load_settings(FIELD_ENCRYPTION_KEYS="not-a-key")

    assert result.returncode != 0
    assert "not a Fernet key" in result.stderr
