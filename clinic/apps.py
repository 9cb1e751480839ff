from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    """The kernel as an app: no models, its management commands (encryption keys)."""

    name = "clinic"
    verbose_name = _("Clinic appointments")


class AdminConfig(DjangoAdminConfig):
    """Django's admin app, with ``admin.site`` an ``accounts.admin_site.StaffAdminSite``.

    Django's documented way to replace the default site: every ``@admin.register`` (ours
    and django-otp's) lands on it, whatever the import order, and nothing is patched at
    run time."""

    default_site = "accounts.admin_site.StaffAdminSite"
