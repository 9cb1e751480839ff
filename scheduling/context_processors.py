"""What every page's header shows: the clinic's name, or the deployment's."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext

from scheduling.selectors import clinic_names


def header_name() -> str:
    # With one clinic the site is that clinic's; with several (or none yet) it is the
    # deployment's, SITE_NAME. The names come from the catalogue each process keeps
    # (scheduling/selectors.py): no query on most pages.
    names = clinic_names()
    if len(names) == 1:
        return names[0]
    return settings.SITE_NAME or gettext("Clinic appointments")


def site_name(request: HttpRequest) -> dict[str, object]:
    # Lazy: a page that does not show the header (a redirect, a fragment) reads nothing.
    return {"site_name": SimpleLazyObject(header_name)}
