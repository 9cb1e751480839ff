"""The stylesheets parse as their authors meant: every block closed, and rules nested only
in at-rules (@media, @supports). The project writes no CSS nesting, so a rule inside a
rule is a brace left open: browsers then read every rule after it as nested in it, and
none of them applies (the profile page's list and the confirm page's "Who is this
appointment for?" lost their styles that way, unnoticed)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

STYLESHEETS = sorted(Path(settings.BASE_DIR, "static", "css").glob("*.css"))
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def nesting_problems(css: str) -> list[str]:
    """Where a block opens inside a rule, or the text ends with blocks still open."""
    text = STRING.sub('""', COMMENT.sub(lambda comment: "\n" * comment[0].count("\n"), css))
    problems = []
    # Each open block: whether it is an at-rule's (which may hold rules).
    open_blocks: list[bool] = []
    prelude_start = 0
    for position, character in enumerate(text):
        if character == "{":
            prelude = text[prelude_start:position].strip()
            if open_blocks and not open_blocks[-1]:
                line = text.count("\n", 0, position) + 1
                problems.append(f"line {line}: {prelude!r} opens inside a rule")
            open_blocks.append(prelude.startswith("@"))
            prelude_start = position + 1
        elif character == "}":
            if not open_blocks:
                line = text.count("\n", 0, position) + 1
                problems.append(f"line {line}: a '}}' closes nothing")
            else:
                open_blocks.pop()
            prelude_start = position + 1
        elif character == ";":
            prelude_start = position + 1
    if open_blocks:
        problems.append(f"{len(open_blocks)} block(s) still open at the end")
    return problems


@pytest.mark.parametrize("stylesheet", STYLESHEETS, ids=lambda path: path.name)
def test_every_block_is_closed_and_rules_nest_only_in_at_rules(stylesheet):
    assert nesting_problems(stylesheet.read_text()) == []


def test_the_check_sees_a_brace_left_open():
    css = ".a {\n  color: red;\n/* next */\n.b {\n  color: blue;\n}\n"

    assert nesting_problems(css) == [
        "line 4: '.b' opens inside a rule",
        "1 block(s) still open at the end",
    ]


def test_the_check_lets_rules_nest_in_media_queries():
    assert nesting_problems("@media (max-width: 40rem) {\n  .a { color: red; }\n}\n") == []
