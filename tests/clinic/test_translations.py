"""The German catalogue (locale/de/LC_MESSAGES/django.po) is complete and current: every
message the code and the templates mark for translation has its German text, none is
fuzzy (a guess msgmerge made when an English text changed), and the file is what
``make messages`` would write from today's sources.

The checks use GNU gettext's own tools (msgattrib, and makemessages' xgettext and
msgmerge), which the build needs anyway to compile the catalogue; without them the
test fails, as .ci/run installs them."""

import datetime as dt
import difflib
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import formats, translation

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"
# What makemessages reads (clinic/management/commands/makemessages.py leaves out the rest).
SOURCES = ["accounts", "appointments", "clinic", "scheduling", "templates"]


def gettext_tool(*arguments: str) -> str:
    if shutil.which(arguments[0]) is None:
        pytest.fail(f"{arguments[0]} (GNU gettext) is missing: apt-get install gettext")
    # The catalogue's path and fixed options: no outside input.
    return subprocess.run(arguments, check=True, capture_output=True, text=True).stdout  # noqa: S603


def without_creation_date(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith('"POT-Creation-Date:')]


def test_every_message_has_its_german_translation():
    untranslated = gettext_tool("msgattrib", "--untranslated", "--no-obsolete", str(CATALOGUE))
    assert untranslated == "", (
        f"Messages without German text in {CATALOGUE.relative_to(ROOT)}:\n{untranslated}"
    )


def test_no_german_translation_is_fuzzy():
    fuzzy = gettext_tool("msgattrib", "--only-fuzzy", "--no-obsolete", str(CATALOGUE))
    assert fuzzy == "", (
        "Fuzzy translations (an English text changed: check the German, then remove the "
        f"`#, fuzzy` line):\n{fuzzy}"
    )


def test_the_catalogue_is_up_to_date_with_the_sources(tmp_path, monkeypatch, settings):
    """makemessages run on a copy of the sources, with the committed catalogue, writes the
    committed catalogue again: no message is missing, none is left over."""
    for name in SOURCES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    copy = tmp_path / "locale" / "de" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(CATALOGUE, copy)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)

    call_command("makemessages", locale=["de"], verbosity=0)

    committed = without_creation_date(CATALOGUE.read_text())
    current = without_creation_date(copy.read_text())
    difference = "\n".join(
        difflib.unified_diff(committed, current, "committed", "from the sources", lineterm="")
    )
    assert committed == current, (
        "locale/de/LC_MESSAGES/django.po is not up to date with the sources: run "
        f"`make messages`, translate what is new, and commit it.\n{difference}"
    )


def test_the_compiled_catalogue_is_in_use():
    """``make`` compiles the .po (compilemessages) before the tests; without the .mo the
    pages would silently stay English."""
    with translation.override("de"):
        assert translation.gettext("Sign out") == "Abmelden"


# The pages' own format names (clinic/formats): a name a language lacks would be printed
# as the format string itself.
PAGE_FORMATS = [
    "WEEKDAY_DATE_FORMAT",
    "WEEKDAY_DAY_MONTH_FORMAT",
    "SHORT_WEEKDAY_DATE_FORMAT",
    "SHORT_WEEKDAY_DAY_MONTH_FORMAT",
    "WEEKDAY_DATETIME_ZONE_FORMAT",
    "SHORT_WEEKDAY_DATETIME_FORMAT",
    "SHORT_WEEKDAY_DATETIME_ZONE_FORMAT",
    "TIME_ZONE_FORMAT",
    "DAY_FORMAT",
]


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize("name", PAGE_FORMATS)
def test_every_language_defines_the_pages_formats(language, name):
    assert formats.get_format(name, lang=language) != name


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["2 December 2026", "02/12/2026", "14:30", "Wednesday 2 December 2026"]),
        ("de", ["2. Dezember 2026", "02.12.2026", "14:30", "Mittwoch, 2. Dezember 2026"]),
    ],
)
def test_dates_and_times_follow_the_language_with_24_hour_times(language, expected):

    moment = dt.datetime(2026, 12, 2, 14, 30)
    with translation.override(language):
        shown = [
            formats.date_format(moment, "DATE_FORMAT"),
            formats.date_format(moment, "SHORT_DATE_FORMAT"),
            formats.time_format(moment.time()),
            formats.date_format(moment, "WEEKDAY_DATE_FORMAT"),
        ]
    assert shown == expected
