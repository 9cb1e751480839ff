from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("", views.doctor_list, name="doctors"),
    path("<int:doctor_id>/", views.doctor_detail, name="doctor"),
]
