from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_start, name="login"),
    path("login/verify/", views.login_verify, name="login-verify"),
    path("logout/", views.logout, name="logout"),
    path("account/", views.profile, name="profile"),
    # The language switcher: Django's set_language (accounts.views.set_language).
    path("language/", views.set_language, name="set-language"),
]
