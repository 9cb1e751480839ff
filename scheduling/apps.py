from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from scheduling.models import AppointmentType, Clinic, Doctor
        from scheduling.selectors import forget_catalogue

        # What each process keeps of the catalogue (selectors.catalogue) is read again
        # after any change to what it holds.
        for model in (Clinic, Doctor, AppointmentType):
            for signal in (post_save, post_delete):
                signal.connect(forget_catalogue, sender=model, dispatch_uid=f"catalogue-{model}")
