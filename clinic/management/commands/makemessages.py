"""``manage.py makemessages``: Django's, with this project's settings for its catalogue.

- Only the application's sources: not the tests, benchmarks, scripts, collected static
  files or the virtualenv.
- No source references (``#: accounts/views.py:42``) and no obsolete entries: the file
  changes only when a message does, so that branches that each add pages merge without
  conflicts over line numbers. ``make messages`` runs it for German; a test
  (tests/clinic/test_translations.py) runs it into a copy and fails when the committed
  catalogue differs or lacks a translation.
"""

from typing import Any

from django.core.management.commands import makemessages

# Relative to the project's root, where make runs it.
IGNORED = ["tests/*", "bench/*", "scripts/*", "staticfiles/*", "var/*", "node_modules/*"]


class Command(makemessages.Command):
    help = (
        "Django's makemessages for this project's catalogue (locale/): application "
        "sources only, without source references or obsolete entries."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        options["ignore_patterns"] = [*options["ignore_patterns"], *IGNORED]
        options["no_location"] = True
        options["no_obsolete"] = True
        super().handle(*args, **options)
