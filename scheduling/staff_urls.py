"""Staff pages of the scheduling app, under /staff/ (clinic/urls.py)."""

from django.urls import path

from scheduling import staff_views

app_name = "staff_scheduling"

urlpatterns = [
    path("doctors/", staff_views.doctors, name="doctors"),
    path("doctors/<int:doctor_id>/availability/", staff_views.availability, name="availability"),
    path(
        "doctors/<int:doctor_id>/availability/intervals/",
        staff_views.interval_add,
        name="interval-add",
    ),
    path(
        "doctors/<int:doctor_id>/availability/intervals/<int:rule_id>/",
        staff_views.interval_change,
        name="interval-change",
    ),
    path(
        "doctors/<int:doctor_id>/availability/intervals/<int:rule_id>/remove/",
        staff_views.interval_remove,
        name="interval-remove",
    ),
    path(
        "doctors/<int:doctor_id>/availability/time-off/",
        staff_views.time_off_add,
        name="time-off-add",
    ),
    path(
        "doctors/<int:doctor_id>/availability/time-off/<int:time_off_id>/remove/",
        staff_views.time_off_remove,
        name="time-off-remove",
    ),
    path(
        "doctors/<int:doctor_id>/availability/extra-hours/",
        staff_views.extra_hours_add,
        name="extra-hours-add",
    ),
    path(
        "doctors/<int:doctor_id>/availability/extra-hours/<int:extra_hours_id>/remove/",
        staff_views.extra_hours_remove,
        name="extra-hours-remove",
    ),
    path("doctors/<int:doctor_id>/types/", staff_views.type_add, name="type-add"),
    path(
        "doctors/<int:doctor_id>/types/<int:type_id>/deactivate/",
        staff_views.type_deactivate,
        name="type-deactivate",
    ),
]
