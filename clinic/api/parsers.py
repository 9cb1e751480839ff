"""The API's JSON parser: DRF's, refusing bodies that would overflow the stack or hold a
NUL character."""

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No request of ours nests deeper than three levels; 32 leaves room and stays far below
# Python's recursion limit, which the JSON decoder, the request fingerprint (a canonical
# dump) and the serializers all walk.
MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    """A body nested deeper than ``MAX_DEPTH`` is a 400 ``malformed_request``, not a
    ``RecursionError`` (a 500) somewhere later."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(_too_deep()) from error
        if _depth(data) > MAX_DEPTH:
            raise ParseError(_too_deep())
        if _holds_nul(data):
            raise ParseError("JSON parse error - a string holds a NUL character (\\u0000).")
        return data


def _too_deep() -> str:
    return f"JSON parse error - the body is nested more than {MAX_DEPTH} levels deep."


def _depth(data: Any) -> int:
    """How deep lists and objects nest in ``data`` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def _holds_nul(data: Any) -> bool:
    """Whether a string (a key or a value) anywhere in ``data`` holds a NUL, which no
    text column of PostgreSQL can store."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
