"""The audit trail's reasons in the reader's language.

An appointment's history records each change with a reason written in English by the
booking services ("booked", "cancelled by clinic: <reason>", "rescheduled from
2026-03-09 10:00 CET to 2026-03-10 11:00 CET"): the record is the same whoever reads it,
and support and the tests compare it as written. The staff page shows it in its own
language: ``{{ entry.history_change_reason|change_description }}`` translates the known
forms and keeps what was typed (a cancellation's reason) as it was; an unknown reason
is shown as written.
"""

import datetime as dt
import re

from django import template
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The reasons appointments.services writes, exactly (what may follow is ": <reason>").
FIXED: dict[str, str | Promise] = {
    "booked": _("booked"),
    "cancelled by clinic": _("cancelled by the clinic"),
    "cancelled by patient": _("cancelled by the patient"),
    "marked completed": _("marked as attended"),
    "marked no-show": _("marked as not attended"),
    "corrected to completed (was no-show)": _("corrected to attended (was not attended)"),
    "corrected to no-show (was completed)": _("corrected to not attended (was attended)"),
}
WHEN = r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})(?: (\S+))?"
RESCHEDULED = re.compile(rf"^rescheduled( by clinic)? from {WHEN} to {WHEN}(?:: (.*))?$", re.DOTALL)


def _local(stamp: str, zone_name: str | None) -> str:
    when = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M")
    text = formats.date_format(when, "SHORT_DATETIME_FORMAT")
    return f"{text} {zone_name}" if zone_name else text


@register.filter
def change_description(reason: object) -> str:
    text = str(reason or "")
    for english, label in FIXED.items():
        if text == english:
            return str(label)
        if text.startswith(f"{english}: "):
            return f"{label}: {text[len(english) + 2 :]}"
    moved = RESCHEDULED.match(text)
    if moved:
        by_clinic, old, old_zone, new, new_zone, typed = moved.groups()
        phrase = (
            _("moved by the clinic from %(old)s to %(new)s")
            if by_clinic
            else _("moved from %(old)s to %(new)s")
        )
        described = str(phrase) % {"old": _local(old, old_zone), "new": _local(new, new_zone)}
        return f"{described}: {typed}" if typed else described
    return text
