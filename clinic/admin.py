"""The worker's schedules of the app itself (the outbox sweep, the daily purges) cannot be
deleted in the admin: without them reminders and purges silently stop. Their migrations
create them and running ``migrate`` again restores them; /readyz reports a missing one.
Other schedules an admin adds stay theirs to delete."""

from django.contrib import admin
from django.contrib.admin import ActionLocation
from django.http import HttpRequest
from django_q.admin import ScheduleAdmin as DjangoQScheduleAdmin
from django_q.models import Schedule

# Whose tasks the app's own schedules run.
OWN_TASK_MODULES = ("accounts.", "appointments.", "clinic.", "scheduling.")


def is_own_schedule(schedule: Schedule) -> bool:
    return str(schedule.func).startswith(OWN_TASK_MODULES)


admin.site.unregister(Schedule)


@admin.register(Schedule)
class ScheduleAdmin(DjangoQScheduleAdmin):  # type: ignore[misc]  # django-q2 is untyped
    def has_delete_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        if obj is not None and is_own_schedule(obj):
            return False
        return bool(super().has_delete_permission(request, obj))

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> object:
        actions: dict[str, object] = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)  # it would take the app's own ones too
        return actions

    def get_readonly_fields(self, request: HttpRequest, obj: Schedule | None = None) -> object:
        # What the app's own schedules run, and how often, is the migrations' to say.
        if obj is not None and is_own_schedule(obj):
            return ("name", "func", "schedule_type", "minutes", "repeats")
        return super().get_readonly_fields(request, obj)
