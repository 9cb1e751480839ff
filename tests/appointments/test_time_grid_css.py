"""The time grid's positions are classes of a stylesheet (no inline style under the CSP),
and the stylesheet is the one its generator writes."""

from pathlib import Path

from django.conf import settings
from django.template import Context, Template

from appointments.templatetags.time_grid import stylesheet


def test_the_committed_stylesheet_is_what_the_generator_writes():
    committed = Path(settings.BASE_DIR, "static", "css", "time-grid.css").read_text()

    assert committed == stylesheet()


def test_minutes_round_to_the_five_minute_class_and_stay_in_range():
    rendered = Template(
        "{% load time_grid %}{{ 542|grid_top }} {{ 2|grid_length }} {{ 9999|grid_minutes }}"
    ).render(Context())

    assert rendered == "gt-108 gl-1 gm-300"
