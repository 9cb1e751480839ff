"""Hand-written queries from the models' own columns and value converters.

For a hot read whose ORM query cost more CPU to build and compile than the database took
to answer it (docs/performance.md): the text is written once per database vendor from
the models' metadata (table and column names, quoted by the backend), the values are
parameters, and each column's value goes through the converters the ORM would apply
(SQLite's datetimes and durations, a field's ``from_db_value``), so the rows are what a
``values_list`` would give. ``scheduling.selectors.bookable_doctor_facts`` was the first
such query; it keeps its own copy of these few lines.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True, slots=True)
class Column:
    """One selected column: its SQL (``alias."column"``) and its value's converters."""

    sql: str
    expression: Any
    converters: tuple[Any, ...]


def column(
    connection: BaseDatabaseWrapper,
    alias: str,
    field: "models.Field[Any, Any]",
    *,
    as_stored: bool = False,
) -> Column:
    """``field``'s column of the table aliased ``alias``. ``as_stored``: without the
    field's own converters (an encrypted field's ``from_db_value``), the value as the
    database holds it, for a key; ``field.from_db_value`` turns it into the value later."""
    assert field.column is not None  # a concrete field's
    expression = field.get_col(field.model._meta.db_table)
    converters = connection.ops.get_db_converters(expression)
    if not as_stored:
        converters = converters + expression.get_db_converters(connection)
    return Column(
        f"{alias}.{connection.ops.quote_name(field.column)}", expression, tuple(converters)
    )


def converted(
    row: Sequence[object], columns: Sequence[Column], connection: BaseDatabaseWrapper
) -> tuple[Any, ...]:
    """``row``'s values through their columns' converters."""
    values = []
    for value, each in zip(row, columns, strict=True):
        for converter in each.converters:
            value = converter(value, each.expression, connection)
        values.append(value)
    return tuple(values)


def concrete_field(model: type[models.Model], name: str) -> "models.Field[Any, Any]":
    """The model's field ``name``, which must be a column of its table."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), (model, name)
    assert field.concrete, (model, name)
    return field


def table(model: type[models.Model], connection: BaseDatabaseWrapper) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))
