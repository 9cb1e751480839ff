from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "clinic.api"
    label = "api"
    verbose_name = "JSON API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the schema extensions (HH:MM times) with drf-spectacular.
        from clinic.api import schema  # noqa: F401
