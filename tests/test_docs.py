"""The documents in docs/ kept true: the data model against the database's own catalogue,
the HTML routes against the URLconf, the code they point at against the code, and the
README's links to every document. (The JSON API's table is checked against the OpenAPI
schema in tests/api/test_schema.py.)"""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def sections(path: Path) -> dict[str, str]:
    """Each ``### `name` `` section of a document, by name."""
    parts = re.split(r"^### `([^`]+)`[^\n]*\n", path.read_text(), flags=re.MULTILINE)
    return {parts[i]: parts[i + 1].split("\n## ", 1)[0] for i in range(1, len(parts), 2)}


def named_on(section: str, label: str) -> set[str]:
    """The names in backticks on a section's ``- Constraints:`` or ``- Indexes:`` line:
    the first backticked word of each ``;``-separated item."""
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith(f"- {label}:"):
            names |= set(re.findall(r"(?:^|; )`([^`]+)`", line.split(":", 1)[1].strip()))
    return names


def database_tables() -> set[str]:
    return {name for name in connection.introspection.table_names() if name != "sqlite_sequence"}


def catalogue() -> dict[str, tuple[set[str], set[str]]]:
    """PostgreSQL's own list of each table's constraints and indexes, as data-model.md
    names them: unique, check and exclusion constraints (not primary and foreign keys),
    and indexes that are not a primary key's, a constraint's own or Django's ``_like``
    twin of a unique varchar."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, con.conname FROM pg_constraint con
            JOIN pg_class c ON c.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND con.contype NOT IN ('p', 'f')
            """
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
        )
        indexes = cursor.fetchall()
    found: dict[str, tuple[set[str], set[str]]] = {
        table: (set(), set()) for table in database_tables()
    }
    constraint_names = {name for _, name in constraints}
    for table, name in constraints:
        found[table][0].add(name)
    for table, name in indexes:
        if name.endswith(("_pkey", "_like")) or name in constraint_names:
            continue
        found[table][1].add(name)
    return found


def listed(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "-"


@pytest.mark.django_db
def test_the_data_model_has_a_section_for_every_table_and_no_other():
    documented = set(sections(DOCS / "data-model.md"))
    tables = database_tables()

    missing, extra = tables - documented, documented - tables
    assert (missing, extra) == (set(), set()), (
        "docs/data-model.md is out of step with the migrated schema.\n"
        f"  tables with no section in the document: {listed(missing)}\n"
        f"  sections for tables the database does not have: {listed(extra)}"
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_data_model_names_every_constraint_and_index_of_postgresql():
    documented = sections(DOCS / "data-model.md")
    problems = []
    for table, (constraints, indexes) in sorted(catalogue().items()):
        section = documented.get(table, "")
        for label, actual in (("Constraints", constraints), ("Indexes", indexes)):
            named = named_on(section, label)
            if actual - named:
                problems.append(f"  {table}: {label.lower()} missing: {listed(actual - named)}")
            if named - actual:
                problems.append(
                    f"  {table}: {label.lower()} in the document but not in the database: "
                    f"{listed(named - actual)}"
                )

    assert not problems, "docs/data-model.md is out of step with PostgreSQL's catalogue:\n" + (
        "\n".join(problems)
    )


def url_routes() -> set[str]:
    """Every HTML route of the URLconf as docs/api.md writes it (``/doctors/{id}/``),
    without the JSON API and the admin's own pages."""

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> set[str]:
        found: set[str] = set()
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                found |= {"/admin/"} if route == "admin/" else walk(pattern.url_patterns, route)
            else:
                found.add("/" + route)
        return found

    routes = walk(get_resolver().url_patterns, "")
    return {re.sub(r"<[^>]+>", "{}", route) for route in routes if not route.startswith("/api/v1/")}


def documented_routes() -> set[str]:
    """The paths in the first cell of each row of docs/api.md's HTML pages table."""
    text = (DOCS / "api.md").read_text()
    section = text.split("## HTML pages", 1)[1].split("\n## ", 1)[0]
    found = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split(" | ", 1)[0]
        for path in re.findall(r"`(?:[A-Z, ]+ )?(/[^`?\s]*)[^`]*`", first_cell):
            found.add(re.sub(r"\{[^}]*\}", "{}", path))
    return found


# Answered by middleware before the URLconf (clinic/health.py), for the probes.
PROBES = {"/healthz", "/readyz"}


def test_the_html_pages_table_lists_every_route_of_the_urlconf_and_no_other():
    routes, documented = url_routes(), documented_routes() - PROBES

    missing, extra = routes - documented, documented - routes
    assert (missing, extra) == (set(), set()), (
        "docs/api.md's HTML pages table is out of step with the URLconf.\n"
        f"  routes not in the table: {listed(missing)}\n"
        f"  paths in the table that no route serves: {listed(extra)}"
    )


# `path/to/file.py` and `path/to/file.py` `function` references in these documents must
# point at files and names that exist.
CHECKED_FOR_CODE = ("extensibility.md", "scaling.md", "capacity.md", "operations.md")


def code_references(text: str) -> set[tuple[str, str | None]]:
    """(file, name) pairs: a backticked `app/module.py`, and the backticked identifier
    right after it when there is one (`appointments/services.py` `book_appointment`)."""
    pairs: set[tuple[str, str | None]] = set()
    for match in re.finditer(
        r"`((?:[a-z_]+/)+[a-z_]+\.py)`(?: `([A-Za-z_][A-Za-z0-9_.]*)`)?", text
    ):
        pairs.add((match.group(1), match.group(2)))
    return pairs


@pytest.mark.parametrize("document", CHECKED_FOR_CODE)
def test_the_code_a_document_points_at_exists(document):
    text = (DOCS / document).read_text()
    problems = []
    for file, name in sorted(code_references(text), key=str):
        path = ROOT / file
        if not path.exists():
            problems.append(f"  {file}: no such file")
        elif name is not None:
            last = name.split(".")[-1]
            if not re.search(
                rf"^\s*(?:def|class)\s+{last}\b|^{last}\s*[:=]", path.read_text(), re.M
            ):
                problems.append(f"  {file}: defines no {name}")

    assert not problems, f"docs/{document} points at code that does not exist:\n" + "\n".join(
        problems
    )


def test_the_readme_links_every_document():
    readme = (ROOT / "README.md").read_text()
    documents = {path.name for path in DOCS.glob("*.md")}

    linked = set(re.findall(r"\]\(docs/([a-z-]+\.md)", readme))

    assert documents <= linked, f"README.md does not link: {listed(documents - linked)}"
