"""The language someone reads: of their pages (the language cookie, which Django's
``LocaleMiddleware`` reads) and of every message to them (``User.language``).

- The language switcher posts to Django's ``set_language`` (through
  ``accounts.views.set_language``, which also stores a signed-in user's choice), a
  plain form that works without JavaScript.
- Signing in (pages and API) stores the page's language for a user who has none yet,
  and sets the cookie to the language a user has, so their pages follow them.
- The profile page and ``PUT /api/v1/me`` change it.
- Messages are rendered with ``translation.override(user.message_language)``: the
  outbox worker (every channel), sign-in codes and notices.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from accounts.models import User

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


def supported_language(language: str | None) -> str:
    """``language`` (``de-AT``, ``en-us``...) as one of ``LANGUAGES``, else LANGUAGE_CODE."""
    try:
        return translation.get_supported_language_variant(language or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def user_language_set(*, user: User, language: str) -> None:
    """Store the language ``user`` reads; one of ``LANGUAGES`` (callers validate)."""
    if language not in LANGUAGE_CODES:
        raise ValueError(f"Not a language of LANGUAGES: {language!r}")
    if user.language != language:
        user.language = language
        User.objects.filter(pk=user.pk).update(language=language)


def of_request(request: HttpRequest) -> str:
    """The language ``request`` asks for (the language cookie, else Accept-Language), as
    ``LocaleMiddleware`` reads it: for the API, which itself answers in English."""
    return supported_language(translation.get_language_from_request(request))


def language_on_sign_in(*, user: User, language: str) -> str:
    """The language ``user`` reads from now on: theirs, or for a first sign-in
    ``language`` (the page's, or the API client's), which is stored."""
    if not user.language:
        user_language_set(user=user, language=supported_language(language))
    return user.language


def remember_language(response: HttpResponse, language: str) -> HttpResponse:
    """The language cookie, as Django's ``set_language`` sets it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite="Lax",  # LANGUAGE_COOKIE_SAMESITE's value, as a literal for the types
    )
    return response
