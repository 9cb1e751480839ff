"""The booking a patient is on their way to, kept in view on the sign-in and profile steps.

``{% booking_in_view next %}`` on a page whose ``next`` is the booking page's address
shows the doctor, the type and the time it names (``selectors.booking_offer_in_url``);
for any other ``next``, nothing. The pages are the accounts app's, which cannot import
the appointments app (docs/architecture.md, "Layers"): the template asks, the view does
not.
"""

from typing import Any

from django import template

from appointments.selectors import booking_offer_in_url

register = template.Library()


@register.inclusion_tag("appointments/_booking_in_view.html")
def booking_in_view(next_url: Any) -> dict[str, Any]:
    offer = booking_offer_in_url(next_url if isinstance(next_url, str) else None)
    return {"offer": offer, "clinic": offer.clinic if offer else None}
