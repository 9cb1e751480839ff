"""The OpenAPI schema's shared parts: the problem responses that every operation can give
(each operation's own 409/422 are declared on its view) and the HH:MM time fields. The
bearer scheme is described next to its authentication class (accounts.authentication)."""

from collections.abc import Iterable
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error (RFC 9457). `code` is stable and machine-readable.",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "example": "Conflict"},
        "status": {"type": "integer", "example": 409},
        "detail": {"type": "string"},
        "code": {"type": "string", "example": "slot_unavailable"},
        "errors": {
            "type": "array",
            "description": "For invalid input: one entry per problem.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}

DESCRIPTIONS = {
    "400": "Invalid input (`errors` lists the fields) or a malformed request.",
    "401": "No token, or a token that is not valid, has expired or was revoked.",
    "403": "The caller may not do this (a patient calling a staff endpoint, say).",
    "404": "Not found, or not the caller's to see.",
    "405": "Method not allowed.",
    "406": "Not acceptable: the API answers in JSON.",
    "409": "Conflicts with the current state (a taken time, an appointment's status, "
    "an Idempotency-Key still in use).",
    "415": "Unsupported media type: send JSON.",
    "422": "Refused by a rule (too soon, too far ahead, an Idempotency-Key used for a "
    "different request, ...).",
    "429": "Too many requests; `Retry-After` says when to try again.",
}
# Statuses any operation can answer with.
COMMON = ("400", "401", "403", "404", "405", "406", "415", "429")
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}


class HourMinuteTimeScheme(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    """A ``TimeField(format="%H:%M")`` (weekly hours, time off) answers ``"09:00"``, which
    OpenAPI's ``format: time`` (RFC 3339: seconds and an offset) does not allow: such
    fields are described as the HH:MM strings they are. Other time fields keep
    ``format: time``."""

    target_class = "rest_framework.fields.TimeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> Any:
        if getattr(self.target, "format", None) == "%H:%M":
            return {
                "type": "string",
                "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                "example": "09:00",
            }
        return build_basic_type(OpenApiTypes.TIME)


def add_problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the Problem schema, and the common problem
    responses on every operation (an operation's own keep their place)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            declared = [status for status in responses if status.startswith(("4", "5"))]
            for status in (*COMMON, *declared):
                response = {"description": DESCRIPTIONS.get(status, "Error."), "content": problem}
                if status in ("409", "429"):
                    response["headers"] = RETRY_AFTER
                responses[status] = response
    return result


class FormatQueryNegotiation(DefaultContentNegotiation):
    """``?format=json`` or ``?format=yaml`` picks the schema's renderer. The API's own
    views ignore ``?format`` (``URL_FORMAT_OVERRIDE`` is off: they answer only JSON)."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        wanted = format_suffix or request.query_params.get("format")
        chosen: tuple[BaseRenderer, str] = super().select_renderer(request, renderers, wanted)
        return chosen


class SchemaView(SpectacularAPIView):
    """The OpenAPI document: YAML by default, JSON with ``?format=json`` or
    ``Accept: application/vnd.oai.openapi+json``."""

    content_negotiation_class = FormatQueryNegotiation

    def handle_exception(self, exc: Exception) -> Response:
        # An error (a bad token, an unknown ?format) is a JSON problem, whichever
        # document format the request asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        response: Response = super().handle_exception(exc)
        return response
