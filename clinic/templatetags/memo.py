"""``{% memo name part... %}...{% endmemo %}``: a stretch of a template rendered once per
process for each combination of its parts, the page shell's header and footer.

Every page renders the same header for a given language, clinic name, kind of visitor
(signed out, patient, staff with or without the second factor, superuser) and address,
and the same footer for a language: about two thirds of what rendering the shell cost
(links reversed, texts translated, the language switcher), a sizeable share of a cheap
page. What the stretch shows must be determined by its parts, the template being
rendered (``context.template``, whose blocks it may contain) and the deployment (URLs,
static files and translations, which change only with a restart), and nothing else.

The one per-request value a shell carries is the CSRF token (the sign-out and language
forms, htmx's header): the stretch is rendered with a placeholder in its place, and each
request's own token replaces it on the way out, so nothing of one visitor reaches
another. Each process keeps at most ``MEMO_ENTRIES`` stretches, the least recently used
dropped first.
"""

from collections import OrderedDict
from threading import Lock

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

MEMO_ENTRIES = 2_000
# Letters and digits only: HTML escaping leaves it as it is, wherever it is rendered.
CSRF_PLACEHOLDER = "csrfmemoplaceholder0b5e4f1c"

_entries: OrderedDict[tuple[object, ...], str] = OrderedDict()
_lock = Lock()


def forget_all() -> None:
    """Drop every stretch (tests; a deployment restarts instead)."""
    with _lock:
        _entries.clear()


class MemoNode(template.Node):
    def __init__(self, name: str, parts: list[FilterExpression], nodelist: NodeList):
        self.name = name
        self.parts = parts
        self.nodelist = nodelist

    def render(self, context: template.Context) -> SafeString:
        origin = context.template.origin.name if context.template else ""
        key = (self.name, origin, *(str(part.resolve(context)) for part in self.parts))
        with _lock:
            html = _entries.get(key)
            if html is not None:
                _entries.move_to_end(key)
        if html is None:
            with context.push(csrf_token=CSRF_PLACEHOLDER):
                html = self.nodelist.render(context)
            with _lock:
                _entries[key] = html
                while len(_entries) > MEMO_ENTRIES:
                    _entries.popitem(last=False)
        if CSRF_PLACEHOLDER in html:
            html = html.replace(CSRF_PLACEHOLDER, str(context.get("csrf_token", "")))
        return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there


@register.tag("memo")
def do_memo(parser: Parser, token: Token) -> MemoNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("'memo' takes a name and what the stretch varies on.")
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(bits[1], [parser.compile_filter(bit) for bit in bits[2:]], nodelist)


@register.filter
def visitor_kind(user: object) -> str:
    """What the shell's navigation depends on in a user: signed in or not, patient or
    staff, the staff's second factor (django-otp's ``is_verified``), superuser."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    if not getattr(user, "is_staff", False):
        return "patient"
    verified = getattr(user, "is_verified", None)
    kind = "staff-verified" if callable(verified) and verified() else "staff"
    return f"{kind}-superuser" if getattr(user, "is_superuser", False) else kind
