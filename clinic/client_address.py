"""Who sent a request, for the rate limits (docs/operations.md, "Behind a proxy").

Behind a TLS proxy or load balancer, ``REMOTE_ADDR`` is the proxy; the client is in the
``X-Forwarded-For`` header the proxy appends to. That header is the client's to write
too, so it is read only when the peer is one of ``TRUSTED_PROXIES`` (addresses or
networks), and then from the right: each trusted proxy appended the address it saw, and
the rightmost hop that is not a trusted proxy is the client. Anything to its left was
written by the client and is ignored, so a client cannot choose the address its requests
are counted under. Without ``TRUSTED_PROXIES`` the header is never read.
"""

import ipaddress
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES holds something that is not an address or network: {error}"
        ) from error


def trusted_networks() -> tuple[Network, ...]:
    return _trusted(tuple(settings.TRUSTED_PROXIES))


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted_networks())


def client_address(request: HttpRequest) -> str:
    peer = str(request.META.get("REMOTE_ADDR", ""))
    if not is_trusted_proxy(peer):
        return peer
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                # Not an address: whoever wrote it is the proxy's client, which the
                # proxy saw as... nothing usable. Count it under the proxy's own view.
                return peer
    # Every hop a trusted proxy (or no header): the request came from inside.
    return hops[0] if hops else peer
