from django.contrib import admin
from django.urls import path

from scheduling import views as scheduling_views

urlpatterns = [
    path("", scheduling_views.home, name="home"),
    path("admin/", admin.site.urls),
]
