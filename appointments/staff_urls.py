"""Staff pages of the appointments app, under /staff/ (clinic/urls.py)."""

from django.urls import path

from appointments import hours_views, staff_views

app_name = "staff_appointments"

urlpatterns = [
    path("", staff_views.home, name="home"),
    path("calendar/", staff_views.calendar, name="calendar"),
    path("appointments/<int:pk>/", staff_views.detail, name="detail"),
    path("appointments/<int:pk>/cancel/", staff_views.cancel, name="cancel"),
    path("appointments/<int:pk>/reschedule/", staff_views.reschedule, name="reschedule"),
    path("appointments/<int:pk>/attendance/", staff_views.attendance, name="attendance"),
    path("patients/", staff_views.patients, name="patients"),
    path("patients/new/", staff_views.new_patient, name="new_patient"),
    path("patients/<int:patient_id>/", staff_views.patient, name="patient"),
    path("patients/<int:patient_id>/book/", staff_views.book_for_patient, name="book_for_patient"),
    path(
        "doctors/<int:doctor_id>/days/<str:day>/cancel/",
        staff_views.cancel_day,
        name="cancel_day",
    ),
    path("doctors/<int:doctor_id>/calendar-feed/", staff_views.calendar_feed, name="calendar_feed"),
    path("doctors/<int:doctor_id>/availability/", hours_views.availability, name="availability"),
    path(
        "doctors/<int:doctor_id>/availability/intervals/",
        hours_views.interval_add,
        name="interval-add",
    ),
    path(
        "doctors/<int:doctor_id>/availability/intervals/<int:rule_id>/",
        hours_views.interval_change,
        name="interval-change",
    ),
    path(
        "doctors/<int:doctor_id>/availability/intervals/<int:rule_id>/remove/",
        hours_views.interval_remove,
        name="interval-remove",
    ),
    path(
        "doctors/<int:doctor_id>/availability/time-off/",
        hours_views.time_off_add,
        name="time-off-add",
    ),
    path(
        "doctors/<int:doctor_id>/availability/time-off/<int:time_off_id>/remove/",
        hours_views.time_off_remove,
        name="time-off-remove",
    ),
    path(
        "doctors/<int:doctor_id>/availability/extra-hours/",
        hours_views.extra_hours_add,
        name="extra-hours-add",
    ),
    path(
        "doctors/<int:doctor_id>/availability/extra-hours/<int:extra_hours_id>/remove/",
        hours_views.extra_hours_remove,
        name="extra-hours-remove",
    ),
    path("doctors/<int:doctor_id>/types/", hours_views.type_add, name="type-add"),
    path(
        "doctors/<int:doctor_id>/types/<int:type_id>/deactivate/",
        hours_views.type_deactivate,
        name="type-deactivate",
    ),
    path(
        "doctors/<int:doctor_id>/types/<int:type_id>/first-visit/",
        hours_views.type_first_visit,
        name="type-first-visit",
    ),
]
