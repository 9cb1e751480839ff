from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal the user should read, carrying everything an answer needs: a stable
    machine-readable ``code`` (the API's problem code), the ``http_status`` that pages and
    the API both answer with, and a ``message`` written for the person who tried.

    The status says what kind of refusal it is, as Zulip's ``JsonableError`` does: 422 for
    a rule about this request (the default), 409 for a collision with the state of things
    (someone else's booking, an appointment's status), 400 and 429 for sign-in errors.
    """

    code = "error"
    http_status = 422
    default_message: str | Promise = _("That did not work. Please try again.")

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        self.message = str(message or self.default_message)
        # For a refusal that passes with time: seconds until trying again may work
        # (the API's Retry-After).
        self.retry_after = retry_after
        super().__init__(self.message)
