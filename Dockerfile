# Production image: gunicorn serving the app, static files served by WhiteNoise.
# Configure it through the environment (see README.md, Configuration); TLS is terminated
# by a proxy in front of it.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DEBUG=false

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# With DEBUG off the settings refuse to load without a real SECRET_KEY, ALLOWED_HOSTS and
# PHONE_LOOKUP_KEY. These build-time values exist only for this command; the container
# gets its own.
RUN SECRET_KEY=build-time-only-dummy-key-not-used-at-runtime ALLOWED_HOSTS=build \
    PHONE_LOOKUP_KEY=build-time-only-dummy-key-not-used-at-runtime \
    python manage.py collectstatic --no-input

RUN useradd --system --user-group --no-create-home --home-dir /app clinic
USER clinic

EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi", "--workers", "3", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
