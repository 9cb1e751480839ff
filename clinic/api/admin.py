from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from clinic.api.models import ApiToken
from clinic.api.services import revoke_token


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Tokens are issued by signing in through the API; here they can be seen and revoked
    (a lost phone, say). The token itself is never stored, so never shown."""

    list_display = ["prefix", "user", "kind", "created_at", "expires_at", "revoked_at"]
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "prefix"]
    readonly_fields = [
        "user",
        "kind",
        "device",
        "prefix",
        "created_at",
        "expires_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            revoke_token(token)
        self.message_user(request, f"Revoked {queryset.count()} tokens.", messages.SUCCESS)
