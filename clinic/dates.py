"""The dates the app accepts from anyone: 1900 to 2999.

Far wider than any clinic needs, and narrow enough that a local date's midnight, in any
zone, and the day after it stay inside Python's dates: 0001-01-01 and 9999-12-31 overflow
when turned into UTC instants, and bad input must be a form error or a 400, not a 500.
Every date field of a form or the API takes ``validate_date_in_range``.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


def validate_date_in_range(value: dt.date) -> None:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            _("Give a date from %(earliest)s to %(latest)s."),
            code="date_out_of_range",
            params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )


def validate_instant_in_range(value: dt.datetime) -> None:
    if not EARLIEST_DATE.year <= value.year <= LATEST_DATE.year:
        raise ValidationError(
            _("Give a time in the years %(earliest)d to %(latest)d."),
            code="date_out_of_range",
            params={"earliest": EARLIEST_DATE.year, "latest": LATEST_DATE.year},
        )
