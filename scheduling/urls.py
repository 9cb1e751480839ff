"""The scheduling app's public pages besides the home page: the clinics' privacy notice,
legal notice (imprint) and terms, at addresses that do not change."""

from django.urls import path

from scheduling import views
from scheduling.models import LegalDocument

app_name = "legal"

urlpatterns = [
    pattern
    for kind in LegalDocument.Kind.values
    for pattern in (
        path(f"{kind}/", views.legal_document, {"kind": kind}, name=kind),
        path(f"{kind}/<slug:slug>/", views.legal_document, {"kind": kind}, name=f"{kind}-clinic"),
    )
]
