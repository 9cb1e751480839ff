from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal the user should read: a stable machine-readable ``code`` (the API's
    problem code) and a ``message`` written for the person who tried."""

    code = "error"
    default_message: str | Promise = _("That did not work. Please try again.")

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message or self.default_message)
        super().__init__(self.message)
