"""Who made a change stays known: a user who appears in the audit trail is deactivated,
never deleted (docs/security.md, "Audit trail").

simple-history records the acting user as a foreign key that becomes NULL when the user
is deleted, which would turn "cancelled by nurse@..." into "cancelled by the system".
So deleting such a user is refused, wherever it is asked for: the admin offers no delete
for them (``UserAdmin``), and any other path meets ``refuse_deleting_actors``, a
``pre_delete`` receiver. Only the demo reset, inside ``clinic.audit.rewriting_history``,
deletes such users (demo ones).
"""

from typing import Any

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clinic.audit import is_rewriting_history
from clinic.errors import DomainError


class UserInAuditTrail(DomainError):
    code = "user_in_audit_trail"
    http_status = 409
    default_message = _(
        "This user made changes recorded in the audit trail, so the account cannot be "
        "deleted: deactivate it instead (untick “active”)."
    )


def history_models() -> list[type[models.Model]]:
    """Every audit-trail table (a django-simple-history model, whichever app has it)."""
    return [
        model
        for model in apps.get_models()
        if any(field.name == "history_user" for field in model._meta.fields)
    ]


def has_acted(user: User) -> bool:
    """Whether ``user`` appears in any audit-trail record as the one who acted."""
    return any(
        model._default_manager.filter(history_user_id=user.pk).exists()
        for model in history_models()
    )


def refuse_deleting_actors(sender: Any, instance: User, **kwargs: Any) -> None:
    if not is_rewriting_history() and has_acted(instance):
        raise UserInAuditTrail()
