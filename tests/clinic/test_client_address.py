"""The client's address behind trusted proxies, and only behind them."""

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from clinic.client_address import client_address


def address(remote: str, forwarded: str | None = None) -> str:
    headers: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **headers))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []

    assert address("203.0.113.7", "198.51.100.1") == "203.0.113.7"


def test_an_untrusted_client_cannot_spoof_its_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert address("203.0.113.7", "198.51.100.1") == "203.0.113.7"


def test_behind_a_trusted_proxy_the_client_is_the_hop_the_proxy_saw(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert address("10.0.0.2", "203.0.113.7") == "203.0.113.7"


def test_what_the_client_wrote_left_of_the_proxys_hop_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert address("10.0.0.2", "1.2.3.4, 203.0.113.7") == "203.0.113.7"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.10"]

    assert address("10.0.0.2", "5.6.7.8, 203.0.113.7, 192.0.2.10") == "203.0.113.7"


def test_ipv6_clients_and_proxies(settings):
    settings.TRUSTED_PROXIES = ["fd00::/8"]

    assert address("fd00::1", "2001:db8::7") == "2001:db8::7"


def test_a_hop_that_is_no_address_counts_as_the_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]

    assert address("10.0.0.2", "not-an-ip") == "10.0.0.2"


def test_a_misconfigured_proxy_list_fails_loudly(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/33"]

    with pytest.raises(ImproperlyConfigured):
        address("10.0.0.2", "203.0.113.7")


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_rate_limits")
def test_sign_in_limits_count_the_client_not_the_proxy(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    from accounts.services import CODE_EMAILS_PER_ADDRESS

    limit = CODE_EMAILS_PER_ADDRESS[0]
    for number in range(limit):
        client.post(
            "/login/",
            {"email": f"p{number}@example.com"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    blocked = client.post(
        "/login/",
        {"email": "last@example.com"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    other_patient = client.post(
        "/login/",
        {"email": "last@example.com"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )

    assert blocked.status_code == 429
    assert other_patient.status_code == 302
