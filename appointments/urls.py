"""The patient's pages (clinic/urls.py mounts them at the root)."""

from django.urls import path

from appointments import views

app_name = "appointments"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("doctors/", views.doctor_list, name="doctors"),
    path("doctors/<int:doctor_id>/", views.doctor_detail, name="doctor"),
    path("appointments/", views.appointment_list, name="list"),
    path("appointments/new/", views.book, name="book"),
    path("appointments/<int:pk>/", views.detail, name="detail"),
    path("appointments/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("appointments/<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("appointments/<int:pk>/calendar.ics", views.calendar_file, name="ics"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="feed"),
]
