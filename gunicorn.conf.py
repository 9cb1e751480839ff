"""gunicorn's settings, used by the Dockerfile and the Procfile (`gunicorn -c gunicorn.conf.py
clinic.wsgi`). Each can be changed from the environment; docs/operations.md explains them.

The timeouts nest: PostgreSQL cancels a statement after 30 s (PG_STATEMENT_TIMEOUT_MS),
so a request stuck on the database is answered 503 well before gunicorn's `timeout` kills
its worker (which answers nothing at all).
"""

import os
from pathlib import Path


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def cpu_count() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


bind = [os.environ.get("GUNICORN_BIND", f"0.0.0.0:{env_int('PORT', 8000)}")]
# Sync workers: each request has a process of its own. gunicorn's rule of thumb, two per
# CPU plus one, keeps the CPUs busy while some workers wait on the database or SMTP.
# WEB_CONCURRENCY overrides it (as on most platforms); each worker holds up to one
# database connection (CONN_MAX_AGE), so workers x hosts stays under max_connections.
workers = env_int("WEB_CONCURRENCY", 2 * cpu_count() + 1)
worker_class = "sync"
# A request still running after this long has its worker killed and restarted.
timeout = env_int("GUNICORN_TIMEOUT", 60)
# On a restart or deploy (SIGTERM), running requests get this long to finish.
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection from the proxy stays open; shorter than the
# proxy's own upstream keep-alive, so that gunicorn never closes one the proxy reuses.
keepalive = env_int("GUNICORN_KEEPALIVE", 5)
# A worker is replaced after about this many requests (with jitter, so not all at once),
# which bounds any slow memory growth.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Headers and request lines beyond these are refused before Django sees them.
limit_request_line = 8190
limit_request_fields = 100

# Logs: JSON lines on standard error (gunicorn's own) and standard output (the access
# log), in the application's format, with no query strings (clinic/gunicorn_logs.py).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = "clinic.gunicorn_logs.JsonLogger"
# No control socket (gunicorn's run-time admin interface): nothing uses it, and it would
# be written to the home directory, which the image's user does not own.
control_socket_disable = True

# Development (`make run` sets GUNICORN_RELOAD=true): restart the workers when the code
# or a template changes, as runserver did.
reload = os.environ.get("GUNICORN_RELOAD", "").lower() in {"1", "true", "yes", "on"}
if reload:
    reload_extra_files = [
        str(path) for path in Path(__file__).resolve().parent.glob("templates/**/*.html")
    ]
