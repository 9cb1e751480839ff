"""What a person needs to add their account to an authenticator app: the otpauth:// URI
as a QR code, and the same key written out for typing in by hand."""

from base64 import b32encode

import qrcode
from django.utils.safestring import SafeString, mark_safe
from qrcode.image.svg import SvgPathImage

from accounts.models import Authenticator


def manual_key(device: Authenticator) -> str:
    """The key in base32, as apps take it typed in, in groups of four for reading."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[start : start + 4] for start in range(0, len(key), 4))


def qr_code_svg(device: Authenticator) -> SafeString:
    """The key's otpauth:// URI as an inline SVG QR code: no image request, and no
    third-party QR service ever sees the key.

    Not ``django_otp.qr.write_qrcode_image``: its SVG writes every element with an
    ``svg:`` prefix, which browsers render in a standalone image but not inline in HTML.
    ``SvgPathImage`` is one ``<path>`` with a viewBox."""
    image = qrcode.make(device.config_url, image_factory=SvgPathImage)
    svg: str = image.to_string(encoding="unicode")
    # Safe: built by qrcode from our own key and account name, all of it encoded as modules.
    return mark_safe(svg)  # noqa: S308
