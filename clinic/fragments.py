"""Keys for rendered fragments that name everything the fragment shows.

A list of doctors or of free times costs more to render (a dozen cards, twenty rows of
links, dates in the locale's format) than to look up. The view computes the rows as
always, then ``fingerprint`` of what the fragment shows: the rows' own column values
(``row_facts``, every concrete column but those named), the times, the page numbers,
the language. The template renders the fragment through ``{% cache ... key
using="fragments" %}`` (settings.CACHES): a changed row, time or language is another
key, so an entry is never stale and never needs deleting; equal keys show equal HTML to
anyone, and the fragments hold nothing of a visitor (no name, no CSRF token).
"""

import hashlib
from collections.abc import Iterable

from django.db import models
from django.utils.translation import get_language


def row_facts(instance: models.Model, exclude: Iterable[str] = ()) -> tuple[object, ...]:
    """The model's name and its concrete column values, but those in ``exclude``."""
    skipped = set(exclude)
    return (
        instance._meta.label,
        *(
            getattr(instance, field.attname)
            for field in instance._meta.concrete_fields
            if field.attname not in skipped
        ),
    )


def fingerprint(*parts: object) -> str:
    """A short key for ``parts`` (reprs of plain values, tuples, dates) and the language."""
    text = repr((get_language(), parts))
    return hashlib.sha256(text.encode()).hexdigest()[:40]
