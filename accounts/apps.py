from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    # The app's config when INSTALLED_APPS names "accounts": this module holds another.
    default = True
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


class OtpEmailConfig(AppConfig):
    """django-otp's email plugin (the addresses patients receive sign-in codes at), with
    names in German and English for the admin: the package's own catalogue translates
    its forms only, and its app and model names are plain English strings.

    The label, the models and their migrations stay the package's. The model's names are
    set on ``_meta`` at start-up, not in its ``Meta``: ``_meta.original_attrs``, which the
    migrations compare, keeps the package's, so no migration of a third-party app
    follows from this."""

    name = "django_otp.plugins.otp_email"
    label = "otp_email"
    default_auto_field = "django.db.models.AutoField"
    verbose_name = _("Sign-in by email")

    def ready(self) -> None:
        from django_otp.plugins.otp_email.models import EmailDevice

        EmailDevice._meta.verbose_name = _("email address for sign-in codes")
        EmailDevice._meta.verbose_name_plural = _("email addresses for sign-in codes")
