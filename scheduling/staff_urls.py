"""Staff pages of the scheduling app, under /staff/ (clinic/urls.py)."""

from django.urls import path

app_name = "staff_scheduling"

urlpatterns: list[object] = []
