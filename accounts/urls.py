from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_start, name="login"),
    path("login/verify/", views.login_verify, name="login-verify"),
    path("logout/", views.logout, name="logout"),
    path("account/", views.profile, name="profile"),
    path("account/people/new/", views.dependant_add, name="dependant-add"),
    path("account/people/<int:pk>/", views.dependant_edit, name="dependant-edit"),
    path("account/people/<int:pk>/remove/", views.dependant_remove, name="dependant-remove"),
    # The language switcher: Django's set_language (accounts.views.set_language).
    path("language/", views.set_language, name="set-language"),
]
