"""/api/v1/'s own routes: the schema, its interactive docs and the catch-all 404.

The endpoints are each app's (``<app>/api.py``); the root URLconf (clinic/urls.py) lists
them before these. Their paths are the contract in docs/api.md (a test keeps the two
equal)."""

from typing import Any

from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from clinic.api.schema import SchemaView


class NoSuchEndpoint(APIView):
    """Any other path under /api/v1/: a problem+json 404 whatever the method, not the
    site's HTML page."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise NotFound("There is no such API endpoint. See /api/v1/docs/.")


urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's set-up script as a file (docs/?script), and our
    # template drops the page's inline <style>: no inline script or style (CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # Last: anything the apps' routes before it did not match.
    re_path(r"^.*$", NoSuchEndpoint.as_view()),
]
