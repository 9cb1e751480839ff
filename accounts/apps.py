from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    # The app's config when INSTALLED_APPS names "accounts": this module holds another.
    default = True
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.apps import apps
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
        from django_otp.models import Device

        # Registers the bearer scheme with drf-spectacular.
        from accounts import (
            api_tokens,
            schema,  # noqa: F401
            session_users,
        )
        from accounts.models import ApiToken, User
        from accounts.protection import refuse_deleting_actors
        from accounts.sessions import stamp_sign_in

        user_logged_in.connect(stamp_sign_in, dispatch_uid="accounts.stamp_sign_in")
        pre_delete.connect(refuse_deleting_actors, sender=User, dispatch_uid="accounts.actors")
        # The shared cache's copies of API tokens and of sessions' users and devices end
        # with what they say (accounts/kept_copies.py): a token deleted (itself, with its
        # authenticator or its user), a user's password or flags changed or the user
        # deleted, a device saved or deleted, anywhere, the admin included. A queryset's
        # update() sends no signal: the services that use one mark the copies themselves.
        devices = [model for model in apps.get_models() if issubclass(model, Device)]
        for signal, receiver, senders in (
            (pre_save, session_users.end_before_user_change, [User]),
            (post_save, session_users.end_after_user_change, [User]),
            (pre_delete, session_users.end_before_user_delete, [User]),
            (post_delete, session_users.end_after_user_delete, [User]),
            (pre_delete, api_tokens.end_token_before_delete, [ApiToken]),
            (post_delete, api_tokens.end_token_after_delete, [ApiToken]),
            # Every device model, proxies (SignInCode) included: a signal names the class
            # the instance was saved or deleted as.
            (pre_save, session_users.end_before_device_change, devices),
            (post_save, session_users.end_after_device_change, devices),
            (pre_delete, session_users.end_before_device_change, devices),
            (post_delete, session_users.end_after_device_change, devices),
        ):
            for sender in senders:
                signal.connect(
                    receiver,
                    sender=sender,
                    dispatch_uid=f"accounts.{receiver.__name__}.{sender._meta.label_lower}",
                )


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
