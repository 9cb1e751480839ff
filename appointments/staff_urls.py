"""Staff pages of the appointments app, under /staff/ (clinic/urls.py)."""

from django.urls import path

app_name = "staff_appointments"

urlpatterns: list[object] = []
