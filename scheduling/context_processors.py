"""What every page's header shows: the clinic's name, or the deployment's."""

import time

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext

from scheduling.models import Clinic

# Every page shows the name, and clinics are renamed perhaps once in their life: each
# process keeps the names it read for this long. A rename or a new clinic shows at once
# in the process that saved it (the signals in apps.py) and within this long in others.
CLINIC_NAMES_SECONDS = 30.0

_clinic_names: tuple[float, tuple[str, ...]] | None = None


def clinic_names() -> tuple[str, ...]:
    """The names of the first two clinics: all the header needs to know."""
    global _clinic_names
    now = time.monotonic()
    if _clinic_names is None or _clinic_names[0] <= now:
        names = tuple(Clinic.objects.order_by("pk").values_list("name", flat=True)[:2])
        _clinic_names = (now + CLINIC_NAMES_SECONDS, names)
    return _clinic_names[1]


def forget_clinic_names(**_: object) -> None:
    global _clinic_names
    _clinic_names = None


def header_name() -> str:
    # With one clinic the site is that clinic's; with several (or none yet) it is the
    # deployment's, SITE_NAME.
    names = clinic_names()
    if len(names) == 1:
        return names[0]
    return settings.SITE_NAME or gettext("Clinic appointments")


def site_name(request: HttpRequest) -> dict[str, object]:
    # Lazy: a page that does not show the header (a redirect, a fragment) reads nothing.
    return {"site_name": SimpleLazyObject(header_name)}
