"""``{{ patient.phone|phone }}``: a stored E.164 number as people read it."""

from django import template

from accounts import phones

register = template.Library()


@register.filter(name="phone")
def phone_display(value: str) -> str:
    return phones.display(value or "")
