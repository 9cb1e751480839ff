"""The bearer scheme in the OpenAPI schema (imported by AccountsConfig.ready, not by the
authentication module: DRF's settings import that one while drf-spectacular imports DRF)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The bearer scheme in the OpenAPI schema (drf-spectacular finds it by subclassing)."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/auth/otp/verify (patients) or "
            "POST /api/v1/auth/staff/token (staff).",
        }
