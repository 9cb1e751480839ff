from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal the user should read: a stable machine-readable ``code`` (the API's
    problem code) and a ``message`` written for the person who tried."""

    code = "error"
    default_message: str | Promise = _("That did not work. Please try again.")

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        self.message = str(message or self.default_message)
        # For a refusal that passes with time: seconds until trying again may work
        # (the API's Retry-After).
        self.retry_after = retry_after
        super().__init__(self.message)
