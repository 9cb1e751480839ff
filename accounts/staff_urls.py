"""The staff pages, under /staff/ (clinic/urls.py)."""

from django.urls import path

from accounts import staff_views

app_name = "staff"

urlpatterns = [
    path("login/", staff_views.login, name="login"),
    path("login/code/", staff_views.login_code, name="login-code"),
    path("login/set-up/", staff_views.login_enrol, name="login-enrol"),
]
