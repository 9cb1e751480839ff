# Production image: gunicorn serving the app (gunicorn.conf.py), static files served by
# WhiteNoise. Configure it through the environment (see README.md, Configuration); TLS is
# terminated by a proxy in front of it.
#
# The base image is pinned by digest, so a rebuild gets the same base until the digest
# is changed on purpose. This digest (python:3.13-slim, multi-platform index) was not
# resolved here: the machine this was written on has no access to a Docker registry. It
# is the one two unrelated public projects pinned for python:3.13-slim in autumn 2026
# (one of them recording it in a build log). Before relying on it, and to move to a newer
# base, check it and bump it together with the tag:
#   docker buildx imagetools inspect python:3.13-slim --format '{{json .Manifest.Digest}}'
FROM python:3.13-slim@sha256:7c61056e61ac89e852de05f3dc6fa51a6dd2181797bceed46aa725dd7cb2cd3b

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DEBUG=false

WORKDIR /app

# GNU gettext's msgfmt, for compilemessages below (the translations, locale/*.po).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

# Every package, transitive ones included, at its locked version with its hash checked
# (requirements.lock, `make lock`).
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .

# With DEBUG off the settings refuse to load without a real SECRET_KEY, ALLOWED_HOSTS,
# PHONE_LOOKUP_KEY and FIELD_ENCRYPTION_KEYS. These build-time values exist only for these
# commands; the container gets its own. compilemessages turns locale/*.po into the .mo
# files the app reads (they are not committed).
RUN SECRET_KEY=build-time-only-dummy-key-not-used-at-runtime ALLOWED_HOSTS=build \
    PHONE_LOOKUP_KEY=build-time-only-dummy-key-not-used-at-runtime \
    FIELD_ENCRYPTION_KEYS=YnVpbGQtdGltZS1vbmx5LWR1bW15LWtleS0wMDAwMDA= \
    sh -c "python manage.py collectstatic --no-input && python manage.py compilemessages"

RUN useradd --system --user-group --no-create-home --home-dir /app clinic
USER clinic

EXPOSE 8000
# /healthz answers without the database (clinic/health.py); an orchestrator should also
# ask /readyz before sending traffic.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "clinic.wsgi"]
