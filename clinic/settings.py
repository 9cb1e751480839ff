"""Settings for the clinic appointment system.

Everything comes from the environment. DEBUG is off unless DEBUG says otherwise, and with
it off the process refuses to start unless a real SECRET_KEY and ALLOWED_HOSTS are given:
a deployment that forgot a variable fails at start, never runs in development mode. The
development commands (``make run``, the Makefile's other targets) and the tests
(``tests/settings.py``) turn DEBUG on explicitly; the rest of the defaults suit them:
SQLite in ``var/``, mail printed on the console.
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from clinic.mailers import mailers_from_url
from clinic.sms import check_sms_settings

# Generic Django classes (ModelAdmin[Model], QuerySet[Model]) subscriptable at run time,
# so that their type arguments need no "type: ignore".
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# Production unless told otherwise (issue 11): see the module docstring.
DEBUG = env_bool("DEBUG", False)

DEVELOPMENT_SECRET_KEY = "development-only-insecure-secret-key"  # noqa: S105 (refused below)
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
# Earlier keys, during a rotation: sessions and API tokens signed with them keep working.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

# Personal data encrypted at rest (clinic/encryption.py): Fernet keys, comma-separated;
# the first encrypts, all decrypt. Separate from SECRET_KEY, so that rotating one does not
# touch the other. `python manage.py generate_encryption_key` makes one.
DEVELOPMENT_FIELD_ENCRYPTION_KEY = "kLMFRySXKk9Ee-tdoMVfCR9VDcw6ZUwAfp6_sxWXDsk="
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS", DEVELOPMENT_FIELD_ENCRYPTION_KEY if DEBUG else ""
)

for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError as _error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes): python manage.py generate_encryption_key makes one."
        ) from _error

if not DEBUG:
    if not FIELD_ENCRYPTION_KEYS or DEVELOPMENT_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "DEBUG is off: set FIELD_ENCRYPTION_KEYS to one or more keys of your own "
            "(python manage.py generate_encryption_key)."
        )
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "DEBUG is off: set SECRET_KEY to a random string of at least 32 characters."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DEBUG is off: set ALLOWED_HOSTS (comma-separated).")

# Phone numbers without a country code that patients type about themselves are read in
# this region (ISO 3166 alpha-2); staff entries use their clinic's country instead.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "DE").upper()
# The key of the phone numbers' search hashes (Patient.phone_lookup, accounts/phones.py).
# A key of its own, so that a SECRET_KEY rotation leaves them valid; required with DEBUG
# off. Changing it needs `manage.py rehash_phone_lookups`.
PHONE_LOOKUP_KEY = env_str("PHONE_LOOKUP_KEY")
if not PHONE_LOOKUP_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DEBUG is off: set PHONE_LOOKUP_KEY to a random string of at least 32 characters."
        )
    PHONE_LOOKUP_KEY = hashlib.sha256(f"phone-lookup:{SECRET_KEY}".encode()).hexdigest()
elif len(PHONE_LOOKUP_KEY) < 32:
    raise ImproperlyConfigured("PHONE_LOOKUP_KEY must be at least 32 characters long.")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The TLS proxies and load balancers in front of gunicorn (addresses or networks, e.g.
# "10.0.0.0/8,127.0.0.1"): only a request from one of them has its client address read
# from X-Forwarded-For (clinic/client_address.py). None by default: the header is ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# The deployment's name, in every page's header when it hosts several clinics (with one
# clinic the header names that clinic); empty: "Clinic appointments", translated.
SITE_NAME = env_str("SITE_NAME")

INSTALLED_APPS = [
    # The kernel's management commands (encryption keys).
    "clinic.apps.ClinicConfig",
    # The admin app with its default site replaced by one behind the staff sign-in
    # (password and authenticator code): clinic/apps.py.
    "clinic.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    # django-otp's email plugin under translated names (accounts/apps.py).
    "accounts.apps.OtpEmailConfig",
    "django_otp.plugins.otp_totp",
    "simple_history",
    "django_q",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "scheduling",
    "appointments",
    # The JSON API's own parts: bearer tokens, idempotency keys, problem responses.
    "clinic.api",
]

MIDDLEWARE = [
    # Operations (issue 11): first the request id every log line carries, then TRACE
    # refused and /healthz and /readyz answered before anything reads the Host header or
    # redirects to HTTPS (a probe asks the container's own address, over plain HTTP).
    "clinic.middleware.RequestIdMiddleware",
    "clinic.middleware.RefuseTraceMiddleware",
    "clinic.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Operations (issue 11): the Content-Security-Policy (SECURE_CSP) on every page, and
    # no-store on every answer that may carry patient data (static files, answered by
    # WhiteNoise above, keep their long caching).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "clinic.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language (issue 13): the language cookie that the switcher (Django's
    # set_language) and signing in set, else the browser's Accept-Language, else
    # LANGUAGE_CODE. After the sessions, before anything that renders text.
    "django.middleware.locale.LocaleMiddleware",
    # ...but the JSON API answers in English (clinic/middleware.py).
    "clinic.middleware.EnglishApiMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the signed-in user (and the OTP device below) read from the shared
    # cache's copy when there is one (accounts/session_users.py, SESSION_USER_CACHE_SECONDS).
    "accounts.session_users.SessionUserMiddleware",
    # django-otp's, loading the device that verified the session only when a page asks
    # whether it is verified (accounts/otp.py).
    "accounts.otp.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A NUL in a query or a form is a 400 before any view reads it (clinic/middleware.py).
    "clinic.middleware.RejectNulMiddleware",
    # Idle and absolute session lifetimes (accounts/sessions.py); after the messages,
    # which say why a session ended.
    "accounts.sessions.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that it sees what the views raise: a refusal is never a 500.
    "clinic.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "scheduling.context_processors.site_name",
                # LANGUAGE_CODE and LANGUAGES for <html lang> and the language switcher.
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# The embedded default is a SQLite file so that a fresh checkout just works.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
# Read replicas (PostgreSQL streaming replicas of DATABASE_URL), comma-separated URLs:
# clinic/db_router.py sends reads there, except those that must see the primary.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
# "pgbouncer": the URLs point at PgBouncer in transaction pooling mode, where a server
# connection serves one transaction and then another client (settings below).
DATABASE_POOLER = env_str("DATABASE_POOLER").strip().lower()
if DATABASE_POOLER not in {"", "pgbouncer"}:
    raise ImproperlyConfigured('DATABASE_POOLER must be "pgbouncer" or unset.')
# Django closes a connection after this many seconds (0: after each request); through
# PgBouncer, Django's connections are PgBouncer's cheap client connections.
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 60)
# Prepared statements on a direct connection to PostgreSQL (never through PgBouncer,
# whose transaction pooling before 1.21 cannot keep them: DATABASE_POOLER below).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
DB_PREPARE_THRESHOLD = env_int("DB_PREPARE_THRESHOLD", 5)

# --- PostgreSQL: no query waits without end (operations, issue 11) -------------------
# Every connection starts with these limits (milliseconds; 0: not sent, so the role's or
# the server's own setting applies), so that a stalled database, a runaway query or a
# forgotten transaction answers "unavailable, try again" (503, clinic/error_pages.py)
# well inside gunicorn's 60 s timeout instead of hanging the worker until it is killed:
# - statement_timeout: one statement at most this long (migrations that rewrite a big
#   table: run them with PG_STATEMENT_TIMEOUT_MS=0);
# - lock_timeout: any lock wait (clinic.locking sets a shorter one, DB_LOCK_TIMEOUT_MS,
#   for the booking locks);
# - idle_in_transaction_session_timeout: a transaction left open and idle, which holds
#   its locks, is ended by the server; longer than the worker's SMTP send (10 s), which
#   happens inside the transaction that holds its outbox row.
# They travel as a startup parameter (libpq ``options``), which PgBouncer in transaction
# pooling mode refuses: with DATABASE_POOLER=pgbouncer they are not sent, and the same
# values belong on the role (ALTER ROLE ... SET statement_timeout = ...,
# docs/pooling-and-replicas.md).
PG_CONNECT_TIMEOUT_SECONDS = env_int("PG_CONNECT_TIMEOUT_SECONDS", 5)
PG_STATEMENT_TIMEOUT_MS = env_int("PG_STATEMENT_TIMEOUT_MS", 30_000)
PG_LOCK_TIMEOUT_MS = env_int("PG_LOCK_TIMEOUT_MS", 10_000)
PG_IDLE_IN_TRANSACTION_TIMEOUT_MS = env_int("PG_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000)


def postgres_startup_options(timeouts: dict[str, int], given: str = "") -> str:
    """libpq's ``options``: ``-c name=value`` for each limit that is not 0, after any
    options the DATABASE_URL gave."""
    settings = [f"-c {name}={value}" for name, value in timeouts.items() if value]
    return " ".join([given, *settings]).strip()


def database_from_url(url: str) -> dict[str, Any]:
    """One entry of DATABASES: the primary's or a replica's."""
    database: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True)
    )
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE makes every transaction take SQLite's write lock at BEGIN, so two
        # bookings cannot both read "free" and then both write: SQLite's equivalent of
        # the per-doctor row lock PostgreSQL takes with select_for_update.
        database["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # Tests run against a file, not shared memory, so that threads and the live
        # server see one database with real locking; one file per test process.
        database["TEST"] = {
            "NAME": str(Path(tempfile.gettempdir()) / f"clinic-test-{os.getpid()}.sqlite3")
        }
        database["CONN_MAX_AGE"] = 0
    elif database["ENGINE"] == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_SECONDS)
        if DATABASE_POOLER == "pgbouncer":
            # A prepared statement lives on one server connection, which the next
            # transaction may not get: PgBouncer before 1.21 (Debian 12 has 1.18) answers
            # 'prepared statement "_pg3_0" does not exist'. None: psycopg never prepares.
            options["prepare_threshold"] = None
            # Django's server-side cursors (QuerySet.iterator()) are WITH HOLD cursors
            # outside a transaction, which outlive it on a connection PgBouncer hands on.
            database["DISABLE_SERVER_SIDE_CURSORS"] = True
        else:
            # Parameters sent apart from the query (psycopg 3's server-side binding) and
            # each query a connection has run PREPARE_THRESHOLD times kept prepared on it:
            # PostgreSQL then skips planning it again, which for the hot reads' joins
            # took longer than running them (docs/performance.md, "Prepared statements").
            if DB_PREPARED_STATEMENTS:
                options.setdefault("server_side_binding", True)
                options.setdefault("prepare_threshold", DB_PREPARE_THRESHOLD)
            startup = postgres_startup_options(
                {
                    "statement_timeout": PG_STATEMENT_TIMEOUT_MS,
                    "lock_timeout": PG_LOCK_TIMEOUT_MS,
                    "idle_in_transaction_session_timeout": PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
                },
                given=str(options.get("options", "")),
            )
            if startup:
                options["options"] = startup
    return database


DATABASES = {"default": database_from_url(DATABASE_URL)}
# The aliases of the replicas: replica_1, replica_2, ... In tests a replica is the test
# database itself (MIRROR), so a test run with replicas set reads what it wrote.
DATABASE_REPLICAS = [f"replica_{number}" for number in range(1, len(DATABASE_REPLICA_URLS) + 1)]
for _alias, _url in zip(DATABASE_REPLICAS, DATABASE_REPLICA_URLS, strict=True):
    DATABASES[_alias] = database_from_url(_url) | {"TEST": {"MIRROR": "default"}}
# Read-your-writes for a user's requests for this many seconds after their write
# (clinic/db_router.py); 0 turns the pin off (every safe request reads a replica).
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 5)
DATABASE_ROUTERS = ["clinic.db_router.PrimaryReplicaRouter"] if DATABASE_REPLICAS else []
if DATABASE_REPLICAS:
    # Before the session is read, so that the session's own query is pinned too.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
        "clinic.db_router.PrimaryPinMiddleware",
    )
# --- end of PostgreSQL limits -------------------------------------------------------

# A lock not granted within this long is "busy, try again" (clinic.locking), not a wait.
DB_LOCK_TIMEOUT_MS = env_int("DB_LOCK_TIMEOUT_MS", 3000)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
# Where sign-in leads when no page asked for it: patients to their appointments, staff
# to the staff pages (URL names, as Django's LOGIN_REDIRECT_URL takes them).
LOGIN_REDIRECT_URL = "appointments:list"
STAFF_LOGIN_REDIRECT_URL = "staff_appointments:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = env_str("REDIS_URL")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, reusing its Redis client objects (clinic/cache.py).
            "BACKEND": "clinic.cache.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {
        "default": {
            # Django's, with an atomic incr that keeps the expiry (see clinic/cache.py).
            "BACKEND": "clinic.cache.DatabaseCache",
            "LOCATION": "cache_entries",
            # Past MAX_ENTRIES Django deletes the expired entries, then a third of the
            # rest. Rate limits keep one live count per address, email and user in each
            # window: 300 (Django's default) could drop live counts; every add also
            # counts the table, so it should stay small.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }
# Sessions (docs/performance.md, "Sessions"): with Redis, each request reads its session
# from the shared cache, and every write goes to the database too (``cached_db``), so a
# Redis that lost its data loses no session. Without Redis the session table itself: the
# database cache would only move the query to another table. Ending a session does not
# depend on the copy: signing out deletes both, and "sign out everywhere" changes the
# user's auth hash, which the user row (read on every request) is checked against.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)
# Rendered fragments whose cache key names everything they show (the week of free times:
# appointments.free_times.FreeWeek.fingerprint), so that a copy in each process's memory
# can never be stale: a changed week has another key. No query, no network.
# With Redis they are kept there instead, under a prefix of their own: one process's
# rendering then serves every process (gunicorn's workers, other web servers), and they
# hold nothing of anyone's (no CSRF token, no name), so sharing them shows nobody more.
if REDIS_URL:
    CACHES["fragments"] = {
        "BACKEND": "clinic.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "fragments",
    }
else:
    CACHES["fragments"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fragments",
        "OPTIONS": {"MAX_ENTRIES": 2_000},
    }
# Rendered fragments that name someone (My appointments: the people a patient books
# for), keyed, as those above, by every value they show: in each process's memory only,
# Redis or not, so no name leaves the process that read it from the database.
CACHES["process"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "process",
    "OPTIONS": {"MAX_ENTRIES": 2_000},
}

# django-q2: the ORM broker by default, so a queued task commits with the booking that
# queued it; Redis when REDIS_URL is set. docs/operations.md explains each number.
# The one task, the outbox sweep, is idempotent and keeps its own per-email retries,
# so the queue's job is only to run it soon and never twice at the same time by mistake.
Q_CLUSTER = {
    "name": "clinic",
    "workers": env_int("Q_WORKERS", 2),
    # A task running longer is stopped. The sweep stops claiming after 30 s, so it ends
    # in time even if its last email waits out the SMTP timeout (10 s).
    "timeout": 60,
    # An unacknowledged task (its worker died) is handed out again after this long;
    # longer than the timeout, so a task still running is never started a second time.
    "retry": 90,
    # A failed run leaves the queue: what it did not send is still pending in the outbox,
    # and the schedule sweeps again within a minute. Re-running it would add nothing.
    "ack_failures": True,
    "max_attempts": 1,
    # After downtime the scheduler runs a missed sweep once, not once per missed minute.
    "catch_up": False,
    "orm": None if REDIS_URL else "default",
    **({"redis": REDIS_URL} if REDIS_URL else {}),
}
# Sending one email is tried this often (backoff 1, 5, 25 minutes) before it is marked
# failed for staff to see.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 4)

# Appointment records (and their audit trail) are kept at least this many years; nothing
# in the app deletes them (docs/security.md, "Retention and erasure").
RETENTION_YEARS = env_int("RETENTION_YEARS", 7)

# Reminders go out this many minutes before an appointment (default: 24 h and 2 h).
REMINDER_OFFSETS_MINUTES = [int(m) for m in env_list("REMINDER_OFFSETS_MINUTES", "1440,120")]

# In development the console mailer prints mail decoded (codes and links whole).
MAILERS = mailers_from_url(env_str("EMAIL_URL", "console://"), readable_console=DEBUG)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clinic <no-reply@localhost>")

# Text messages (clinic/sms.py): reminders and clinic cancellations to patients who opted
# in. "" is off; "console" (development only) prints them; "http" posts them as JSON to a
# gateway. Each send waits at most SMS_GATEWAY_TIMEOUT_SECONDS, inside the worker's budget.
SMS_BACKEND = env_str("SMS_BACKEND", "console" if DEBUG else "").strip().lower()
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "")
SMS_GATEWAY_TIMEOUT_SECONDS = env_int("SMS_GATEWAY_TIMEOUT_SECONDS", 10)
check_sms_settings(backend=SMS_BACKEND, url=SMS_GATEWAY_URL, token=SMS_GATEWAY_TOKEN, debug=DEBUG)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Languages (issue 13) --------------------------------------------------------------
# English by default (the tests assert English texts), German for anyone whose browser
# or choice asks for it. The translations are locale/de/LC_MESSAGES/django.po, compiled by
# `make` and the Dockerfile (compilemessages); docs/architecture.md, "Languages".
LANGUAGE_CODE = "en"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times in each language's own formats, 24-hour in both (clinic/formats/).
FORMAT_MODULE_PATH = ["clinic.formats"]
# The switcher's choice, kept for a year; like the other cookies, Secure without DEBUG.
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"  # storage and server time; each clinic shows its own IANA zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Transport security, headers and cookies (operations, issue 11) -----------------
# With DEBUG off everything is HTTPS-only; `manage.py check --deploy --fail-level
# WARNING` passes with these values (tests/clinic/test_settings.py runs it).
# docs/security.md explains each.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# The __Host- prefix: a browser keeps such a cookie only if it is Secure, for Path=/ and
# with no Domain, so neither a sibling subdomain nor a plain-HTTP page can set or
# overwrite the session or CSRF cookie (cookie tossing). Plain-HTTP development keeps the
# plain names, which the prefix would make browsers refuse.
SESSION_COOKIE_NAME = "sessionid" if DEBUG else "__Host-sessionid"
CSRF_COOKIE_NAME = "csrftoken" if DEBUG else "__Host-csrftoken"
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# "preload" in the HSTS header allows the domain onto the browsers' built-in HTTPS-only
# list; it takes a submission at hstspreload.org to get there, and months to leave it:
# SECURE_HSTS_PRELOAD=false for a domain whose subdomains are not all HTTPS.
SECURE_HSTS_PRELOAD = not DEBUG and env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (Django's own middleware): scripts, styles, fonts and requests
# from this origin only, and no inline script or style anywhere, the admin and the API
# docs included (the Swagger page loads its set-up script as a file, and htmx's own
# indicator style is off: templates/base.html). `data:` images are Swagger UI's icons.
# An injected <script> or style="" is refused by the browser; tests/e2e/test_csp.py opens
# the main pages in Chromium and finds no violation.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
# --- end of transport security, headers and cookies ---------------------------------

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
# Sessions end after this long without a request (staff, patients), and this long after
# signing in whatever the activity (accounts/sessions.py).
STAFF_SESSION_IDLE_SECONDS = env_int("STAFF_SESSION_IDLE_SECONDS", 30 * 60)
PATIENT_SESSION_IDLE_SECONDS = env_int("PATIENT_SESSION_IDLE_SECONDS", 60 * 60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", SESSION_COOKIE_AGE)

# Patients log in with a one-time code sent by email (accounts.services).
OTP_EMAIL_SENDER = DEFAULT_FROM_EMAIL
# django-otp's own subject, unused: accounts.services writes the code email itself, in the
# patient's language.
OTP_EMAIL_SUBJECT = "Your sign-in code: {token}"
OTP_EMAIL_BODY_TEMPLATE_PATH = "accounts/email/login_code.txt"
OTP_EMAIL_TOKEN_VALIDITY = 600
OTP_EMAIL_COOLDOWN_DURATION = 60
OTP_EMAIL_THROTTLE_FACTOR = 1

# Staff sign in with a password and an authenticator app (TOTP, accounts.staff_services);
# the issuer is the name the app shows next to the account.
OTP_TOTP_ISSUER = "Clinic appointments"
# The admin lists authenticators (to remove a lost one) but never shows their keys: a key
# seen there would be a second factor for someone else's account.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Logs (operations, issue 11) -----------------------------------------------------
# JSON lines on standard error, the web processes' and the worker's alike, each with the
# request id and user id of its request and no personal data (clinic/json_logs.py).
# gunicorn's own and its access log use the same format (gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "clinic.json_logs.RequestContextFilter"}},
    "formatters": {"json": {"()": "clinic.json_logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's default handlers for its own records (plain text on the console with
    # DEBUG, mail to ADMINS without) give way: its records reach the root's.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}
# --- end of logs ----------------------------------------------------------------------

# The JSON API at /api/v1/ (clinic/api, and each app's api.py); docs/api.md describes it.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["clinic.api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["clinic.api.throttling.UserWriteThrottle"],
    "DEFAULT_PAGINATION_CLASS": "clinic.api.pagination.Pagination",
    "EXCEPTION_HANDLER": "clinic.api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "URL_FORMAT_OVERRIDE": None,
    "UNICODE_JSON": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests per caller, counted in the shared cache so that every web process sees the
# same count: sign-in attempts per client address and per email, writes per user.
API_THROTTLE_RATES = {
    "auth_address": env_str("API_THROTTLE_AUTH_ADDRESS", "60/hour"),
    "auth_email": env_str("API_THROTTLE_AUTH_EMAIL", "10/hour"),
    "writes": env_str("API_THROTTLE_WRITES", "120/hour"),
}
# Bearer tokens (POST /api/v1/auth/otp/verify) expire after this many days.
API_TOKEN_LIFETIME_DAYS = env_int("API_TOKEN_LIFETIME_DAYS", 30)
# A checked token's facts (ids, kind, expiry, flags; no email, no name) are kept this many
# seconds in the shared cache, so an API request reads no token or user row
# (accounts/api_tokens.py; revoking and every other change that ends a token still take
# effect at once). 0: every request reads the rows. Without Redis the cache is a table,
# and a cache read would only replace the rows' query, so the default is 0 there.
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 60 if REDIS_URL else 0)
# A signed-in session's user (id, flags, session auth hash; no email, no name) and the OTP
# device that verified it (id, user, confirmed) are kept this many seconds in the shared
# cache, so a page reads neither row (accounts/session_users.py; a password change, "sign
# out everywhere", a changed flag, a deleted user or device still take effect on the next
# request). 0: every request reads the rows; the default without Redis, as for the tokens.
SESSION_USER_CACHE_SECONDS = env_int("SESSION_USER_CACHE_SECONDS", 60 if REDIS_URL else 0)
# Each process keeps the catalogue (the clinics, specialties and choices the search forms,
# the lists and the home page show; scheduling/selectors.py) and asks the shared cache at
# most this often whether another process has changed it since (a saved clinic, doctor
# or type announces itself there after its commit): other processes show the change
# within this many seconds, not CATALOGUE_SECONDS (30). 0: never asked, the default
# without Redis, where the cache is a table and one process is the common case.
CATALOGUE_CHECK_SECONDS = env_int("CATALOGUE_CHECK_SECONDS", 1 if REDIS_URL else 0)
# An Idempotency-Key and the response it stored are kept this long.
IDEMPOTENCY_KEY_LIFETIME_HOURS = env_int("IDEMPOTENCY_KEY_LIFETIME_HOURS", 24)

SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic appointments API",
    "DESCRIPTION": (
        "Book, reschedule and cancel appointments; staff manage doctors' hours. "
        "Errors are application/problem+json (RFC 9457) with a stable `code`. "
        "See docs/api.md."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "clinic.api.schema.add_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {"AppointmentStatus": "appointments.models.Status"},
}

# --- Health checks (operations, issue 11) -------------------------------------------
# /healthz: the process answers (nothing else is asked). /readyz: the database, the
# cache and the task broker answer, and the worker's schedules exist (clinic/health.py).
# These are the schedules the migrations make (appointments 0005, api 0002, accounts 0010).
WORKER_SCHEDULES = [
    "send due notifications",
    "purge expired idempotency keys",
    "purge expired sign-in data",
]
# A Redis that does not answer fails a request (503) and /readyz within seconds.
if REDIS_URL:
    for _alias in ("default", "fragments"):
        CACHES[_alias]["OPTIONS"] = {"socket_connect_timeout": 2, "socket_timeout": 2}
# --- end of health checks -----------------------------------------------------------
