"""The tests' settings: the project's own, in development mode.

``clinic.settings`` defaults to production (DEBUG off, which needs a real SECRET_KEY and
ALLOWED_HOSTS); the tests run with DEBUG on at load time, as ``make run`` does, so that
they get the development defaults (SQLite, the console mailer, plain-HTTP cookies).
Django's test runner still turns ``settings.DEBUG`` off while the tests run. Setting the
variable in the environment, rather than only here, also hands it to the processes the
tests start (``manage.py qcluster``, gunicorn). The tests that check production values
start their own interpreter with an environment of their own (tests/clinic/test_settings.py).
"""

import os

os.environ["DEBUG"] = "true"

from clinic.settings import *  # noqa: F403
