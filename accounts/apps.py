from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import pre_delete

        # Registers the bearer scheme with drf-spectacular.
        from accounts import schema  # noqa: F401
        from accounts.models import User
        from accounts.protection import refuse_deleting_actors
        from accounts.sessions import stamp_sign_in

        user_logged_in.connect(stamp_sign_in, dispatch_uid="accounts.stamp_sign_in")
        pre_delete.connect(refuse_deleting_actors, sender=User, dispatch_uid="accounts.actors")
