from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from scheduling.context_processors import forget_clinic_names
        from scheduling.models import Clinic

        post_save.connect(forget_clinic_names, sender=Clinic, dispatch_uid="clinic-names")
        post_delete.connect(forget_clinic_names, sender=Clinic, dispatch_uid="clinic-names")
