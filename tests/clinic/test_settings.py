"""DEBUG is off unless set; with it off, the settings refuse to load until the deployment
is configured, and the configured production values pass Django's deployment checks.

Settings are read once per process, so each case loads them in a fresh interpreter with
its own environment.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REAL_SECRET_KEY = "k" * 50
# A key of the deployment's own (not the development key).
REAL_ENCRYPTION_KEY = "3bT4f7bQ0sQvX9o8m2r6yWl1cJ5nK8pA0dE2gH4jL6M="

LOAD_SETTINGS = "import django; django.setup(); print('settings loaded')"

# What the tests' own environment may carry and a case must not inherit.
SETTINGS_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "EMAIL_URL",
    "REDIS_URL",
    "FIELD_ENCRYPTION_KEYS",
    "PHONE_LOOKUP_KEY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "PG_STATEMENT_TIMEOUT_MS",
    "PG_LOCK_TIMEOUT_MS",
    "PG_IDLE_IN_TRANSACTION_TIMEOUT_MS",
    "PG_CONNECT_TIMEOUT_SECONDS",
    "SMS_BACKEND",
    "SMS_GATEWAY_URL",
    "SMS_GATEWAY_TOKEN",
    "DATABASE_REPLICA_URLS",
    "DATABASE_POOLER",
    "REPLICA_PIN_SECONDS",
    "DB_CONN_MAX_AGE",
)

# A deployment's values: DEBUG off, a real key (check --deploy wants 50 characters or
# more), a host name, a real mail server.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "clinic.example.com",
    "EMAIL_URL": "smtp+tls://clinic:secret@smtp.example.com",
    "FIELD_ENCRYPTION_KEYS": REAL_ENCRYPTION_KEY,
}


def run(arguments: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    # Start from a clean slate: the test process's own settings-related variables
    # (DEBUG, SECRET_KEY, DATABASE_URL...) must not leak into the case under test.
    base = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    if env.get("DEBUG") == "false":
        env = {"FIELD_ENCRYPTION_KEYS": REAL_ENCRYPTION_KEY, "PHONE_LOOKUP_KEY": "p" * 50} | env
    # The command is this interpreter with our own arguments: nothing untrusted runs.
    return subprocess.run(  # noqa: S603
        [sys.executable, *arguments],
        env=base | {"DJANGO_SETTINGS_MODULE": "clinic.settings"} | env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    return run(["-c", LOAD_SETTINGS], **env)


def settings_values(*names: str, **env: str) -> dict[str, object]:
    """The named settings as the process with ``env`` sees them."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {list(names)!r}}}, "
        "default=str))"
    )
    result = run(["-c", code], **env)
    assert result.returncode == 0, result.stderr
    values: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return values


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


def test_debug_is_off_unless_it_is_set():
    result = load_settings()

    assert result.returncode != 0
    assert "ImproperlyConfigured: DEBUG is off: set" in result.stderr


def test_it_starts_with_no_other_configuration_in_development():
    result = load_settings(DEBUG="true")

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
    result = load_settings(DEBUG="true", FIELD_ENCRYPTION_KEYS="not-a-key")

    assert result.returncode != 0
    assert "not a Fernet key" in result.stderr


def deploy_check(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    # The model checks open the database (SQLite's JSON support): one of the test's own.
    database = f"sqlite:///{tmp_path / 'check.sqlite3'}"
    command = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return run(command, **PRODUCTION | {"DATABASE_URL": database} | env)


def test_the_deployment_checks_pass_with_production_values(tmp_path):
    result = deploy_check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checks_fail_without_the_production_values(tmp_path):
    # The control: the same check sees what is missing (here HSTS preload).
    result = deploy_check(tmp_path, SECURE_HSTS_PRELOAD="false")

    assert result.returncode != 0
    assert "security.W021" in result.stdout + result.stderr


def test_production_cookies_are_host_only_and_secure():
    values = settings_values(
        "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_NAME",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_PRELOAD",
        **PRODUCTION,
    )

    assert values == {
        "SESSION_COOKIE_NAME": "__Host-sessionid",
        "CSRF_COOKIE_NAME": "__Host-csrftoken",
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_PRELOAD": True,
    }


def test_development_keeps_plain_cookie_names_for_plain_http():
    values = settings_values("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", DEBUG="true")

    assert values == {"SESSION_COOKIE_NAME": "sessionid", "CSRF_COOKIE_NAME": "csrftoken"}


POSTGRES = "postgres://clinic@db.example.com:5432/clinic"


def test_postgres_connections_start_with_statement_lock_and_idle_transaction_timeouts():
    values = settings_values("DATABASES", DEBUG="true", DATABASE_URL=POSTGRES)

    options = values["DATABASES"]["default"]["OPTIONS"]  # type: ignore[index]
    assert options["connect_timeout"] == 5
    assert options["options"] == (
        "-c statement_timeout=30000 -c lock_timeout=10000 "
        "-c idle_in_transaction_session_timeout=60000"
    )


def test_each_timeout_comes_from_the_environment_and_zero_leaves_it_to_the_role():
    values = settings_values(
        "DATABASES",
        DEBUG="true",
        DATABASE_URL=POSTGRES + "?options=-c%20search_path%3Dclinic",
        PG_STATEMENT_TIMEOUT_MS="5000",
        PG_LOCK_TIMEOUT_MS="0",
        PG_IDLE_IN_TRANSACTION_TIMEOUT_MS="20000",
    )

    options = values["DATABASES"]["default"]["OPTIONS"]  # type: ignore[index]
    assert options["options"] == (
        "-c search_path=clinic -c statement_timeout=5000 "
        "-c idle_in_transaction_session_timeout=20000"
    )


def test_with_every_timeout_zero_no_startup_options_are_sent_as_pgbouncer_needs():
    values = settings_values(
        "DATABASES",
        DEBUG="true",
        DATABASE_URL=POSTGRES,
        PG_STATEMENT_TIMEOUT_MS="0",
        PG_LOCK_TIMEOUT_MS="0",
        PG_IDLE_IN_TRANSACTION_TIMEOUT_MS="0",
    )

    assert "options" not in values["DATABASES"]["default"]["OPTIONS"]  # type: ignore[index]


def test_a_direct_connection_binds_on_the_server_and_prepares_what_it_runs_five_times():
    direct = settings_values("DATABASES", DEBUG="true", DATABASE_URL=POSTGRES)
    off = settings_values(
        "DATABASES", DEBUG="true", DATABASE_URL=POSTGRES, DB_PREPARED_STATEMENTS="false"
    )

    options = direct["DATABASES"]["default"]["OPTIONS"]  # type: ignore[index]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    assert "server_side_binding" not in off["DATABASES"]["default"]["OPTIONS"]  # type: ignore[index]
    assert "prepare_threshold" not in off["DATABASES"]["default"]["OPTIONS"]  # type: ignore[index]


def test_development_prints_mail_readably_and_production_as_sent():
    development = settings_values("MAILERS", DEBUG="true")
    console_in_production = settings_values("MAILERS", **PRODUCTION | {"EMAIL_URL": "console://"})

    assert development["MAILERS"] == {
        "default": {"BACKEND": "clinic.console_mail.ReadableConsoleBackend", "OPTIONS": {}}
    }
    assert console_in_production["MAILERS"] == {
        "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend", "OPTIONS": {}}
    }


def test_production_refuses_the_sms_console_and_a_gateway_without_its_token():
    console = load_settings(**PRODUCTION | {"SMS_BACKEND": "console"})
    tokenless = load_settings(
        **PRODUCTION | {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": "https://sms.example.com/"}
    )

    assert console.returncode != 0
    assert "SMS_BACKEND=console is for development (DEBUG) only." in console.stderr
    assert tokenless.returncode != 0
    assert "SMS_BACKEND=http needs SMS_GATEWAY_TOKEN." in tokenless.stderr


def test_sms_is_off_in_production_unless_set_and_printed_in_development():
    assert settings_values("SMS_BACKEND", **PRODUCTION) == {"SMS_BACKEND": ""}
    assert settings_values("SMS_BACKEND", DEBUG="true") == {"SMS_BACKEND": "console"}
    gateway = {
        "SMS_BACKEND": "http",
        "SMS_GATEWAY_URL": "https://sms.example.com/v1",
        "SMS_GATEWAY_TOKEN": "t",
    }
    assert settings_values("SMS_BACKEND", **PRODUCTION | gateway) == {"SMS_BACKEND": "http"}


# --- PgBouncer and read replicas (docs/pooling-and-replicas.md) ---------------------


def test_behind_pgbouncer_nothing_is_prepared_no_server_side_cursor_and_no_startup_options():
    values = settings_values(
        "DATABASES", DEBUG="true", DATABASE_URL=POSTGRES, DATABASE_POOLER="pgbouncer"
    )

    database = values["DATABASES"]["default"]  # type: ignore[index]
    assert database["OPTIONS"] == {"connect_timeout": 5, "prepare_threshold": None}
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True


def test_an_unknown_pooler_is_refused():
    result = load_settings(DEBUG="true", DATABASE_URL=POSTGRES, DATABASE_POOLER="pgpool")

    assert result.returncode != 0
    assert 'DATABASE_POOLER must be "pgbouncer" or unset' in result.stderr


def test_without_replicas_there_is_no_router_and_no_pin():
    values = settings_values(
        "DATABASES", "DATABASE_ROUTERS", "MIDDLEWARE", DEBUG="true", DATABASE_URL=POSTGRES
    )

    assert list(values["DATABASES"]) == ["default"]  # type: ignore[call-overload]
    assert values["DATABASE_ROUTERS"] == []
    assert "clinic.db_router.PrimaryPinMiddleware" not in values["MIDDLEWARE"]  # type: ignore[operator]


def test_each_replica_url_is_a_database_the_router_reads_and_tests_mirror():
    values = settings_values(
        "DATABASES",
        "DATABASE_REPLICAS",
        "DATABASE_ROUTERS",
        "MIDDLEWARE",
        "REPLICA_PIN_SECONDS",
        DEBUG="true",
        DATABASE_URL=POSTGRES,
        DATABASE_REPLICA_URLS=(
            "postgres://clinic@replica-1.example.com/clinic, "
            "postgres://clinic@replica-2.example.com/clinic"
        ),
        REPLICA_PIN_SECONDS="8",
    )

    databases: dict[str, dict[str, object]] = values["DATABASES"]  # type: ignore[assignment]
    assert values["DATABASE_REPLICAS"] == ["replica_1", "replica_2"]
    assert databases["replica_2"]["HOST"] == "replica-2.example.com"
    assert databases["replica_1"]["TEST"]["MIRROR"] == "default"  # type: ignore[index]
    assert databases["replica_1"]["OPTIONS"] == databases["default"]["OPTIONS"]
    assert values["DATABASE_ROUTERS"] == ["clinic.db_router.PrimaryReplicaRouter"]
    middleware: list[str] = values["MIDDLEWARE"]  # type: ignore[assignment]
    pin = middleware.index("clinic.db_router.PrimaryPinMiddleware")
    assert pin == middleware.index("django.contrib.sessions.middleware.SessionMiddleware") - 1
    assert values["REPLICA_PIN_SECONDS"] == 8


def test_sessions_and_fragments_are_kept_in_redis_when_there_is_one_and_locally_otherwise():
    with_redis = settings_values(
        "SESSION_ENGINE", "CACHES", DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/12"
    )
    without = settings_values("SESSION_ENGINE", "CACHES", DEBUG="true")

    assert with_redis["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"
    assert with_redis["CACHES"]["default"]["BACKEND"] == "clinic.cache.RedisCache"  # type: ignore[index]
    # The rendered weeks, shared by every process, apart from the other entries.
    assert with_redis["CACHES"]["fragments"]["BACKEND"] == "clinic.cache.RedisCache"  # type: ignore[index]
    assert with_redis["CACHES"]["fragments"]["KEY_PREFIX"] == "fragments"  # type: ignore[index]
    # Without Redis the database cache would only move the session's query elsewhere.
    assert without["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"
    assert without["CACHES"]["default"]["BACKEND"] == "clinic.cache.DatabaseCache"  # type: ignore[index]
    assert "LocMemCache" in without["CACHES"]["fragments"]["BACKEND"]  # type: ignore[index]


def test_the_signed_in_user_and_the_token_are_kept_only_with_redis():
    names = ("SESSION_USER_CACHE_SECONDS", "API_TOKEN_CACHE_SECONDS")
    with_redis = settings_values(*names, DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/12")
    without = settings_values(*names, DEBUG="true")

    assert with_redis == {"SESSION_USER_CACHE_SECONDS": 60, "API_TOKEN_CACHE_SECONDS": 60}
    # On the database cache a copy's read would be a query too.
    assert without == {"SESSION_USER_CACHE_SECONDS": 0, "API_TOKEN_CACHE_SECONDS": 0}


def test_the_catalogue_is_asked_for_across_processes_only_with_redis():
    with_redis = settings_values(
        "CATALOGUE_CHECK_SECONDS", DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/12"
    )
    without = settings_values("CATALOGUE_CHECK_SECONDS", DEBUG="true")

    assert with_redis == {"CATALOGUE_CHECK_SECONDS": 1}
    # On the database cache the question would be a query once a second per process.
    assert without == {"CATALOGUE_CHECK_SECONDS": 0}
