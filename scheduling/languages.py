"""The languages doctors speak: ISO 639-1 codes ("de", "en", "tr"), named through
Django's own language table (``django.conf.locale.LANG_INFO``), so a name is translated
wherever Django translates it.

Stored on ``Doctor.languages`` as the codes joined by commas ("de,en"): one plain column
that SQLite and PostgreSQL filter alike (``spoken_language_filter``), where a JSON list's
``contains`` lookup is PostgreSQL-only."""

from functools import cache

from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Languages LANG_INFO names only in a regional variant, under their ISO 639-1 code.
EXTRA_LANGUAGES: dict[str, Promise] = {"zh": _("Chinese")}


@cache
def language_names() -> dict[str, Promise | str]:
    """ISO 639-1 code -> the language's (translatable) English name, sorted by code."""
    names: dict[str, Promise | str] = {
        code: _(info["name"])  # in Django's own catalogue
        for code, info in LANG_INFO.items()
        if len(code) == 2 and "name" in info
    }
    names.update(EXTRA_LANGUAGES)
    return dict(sorted(names.items()))


def language_choices() -> list[tuple[str, Promise | str]]:
    return list(language_names().items())


def language_name(code: str) -> Promise | str:
    return language_names().get(code, code)


def parse_languages(value: str) -> list[str]:
    """ "de,en" -> ["de", "en"]; blanks dropped."""
    return [code.strip() for code in value.split(",") if code.strip()]


def join_languages(codes: list[str]) -> str:
    """The stored form: known codes, each once, in the order given."""
    return ",".join(dict.fromkeys(code.strip().lower() for code in codes if code.strip()))


def validate_languages(value: str) -> None:
    unknown = [code for code in parse_languages(value) if code not in language_names()]
    if unknown:
        raise ValidationError(
            _("%(codes)s: not ISO 639-1 language codes (e.g. de, en, tr)."),
            params={"codes": ", ".join(unknown)},
        )
    codes = parse_languages(value)
    if len(codes) != len(set(codes)) or value != ",".join(codes):
        raise ValidationError(_("Give each language code once, separated by commas: de,en."))


def spoken_language_filter(code: str, field: str = "languages") -> Q:
    """Doctors who speak ``code`` (which must be a known code: it goes into a pattern)."""
    if code not in language_names():
        raise ValueError(f"unknown language code {code!r}")
    return Q(**{f"{field}__regex": rf"(^|,){code}(,|$)"})
