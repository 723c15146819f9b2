"""The address a request comes from, for every limit keyed by it: the API's throttles
(alpespartners/throttling.py) and the admin's login lockout (django-axes, AXES_CLIENT_IP_CALLABLE).

X-Forwarded-For is written by whoever sends the request: only the entries that our own proxies
appended can be believed. With TRUSTED_PROXY_COUNT = N proxies in front of the web process, each
appending the address it received the request from, the client is the Nth entry from the right;
anything to its left was sent by the client and is ignored. With 0 (no proxy) the header is ignored
and the address is REMOTE_ADDR."""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """Fewer entries than proxies means the request joined the chain after its first proxies (a
    probe from inside, say): the leftmost entry is then the address the first proxy it reached saw,
    as DRF's NUM_PROXIES reads it. An entry that is not an IP address (a proxy that adds a port, a
    misconfigured chain) never becomes the key: REMOTE_ADDR is used instead."""
    remote_address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote_address
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if not forwarded:
        return remote_address
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_address
