"""Who is on the other end of a request: the client's network address, for the flood caps only.

Behind a reverse proxy every request comes from the proxy, so the address is read from
``X-Forwarded-For``, but only when the request comes from a proxy in ``HOTLINE_TRUSTED_PROXIES``: anyone
else could write any address there. The header is read from the right (the hop nearest to us) and the
first address that is not a trusted proxy is the client; what lies to its left was written by the client
itself and is ignored. The address is turned into a keyed hash at once (:func:`bot.engine.floods.address_key`)
and never stored or logged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    if not networks:  # no proxy trusted (the default): nothing to parse
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def client_address(request: Request, trusted_proxies: Sequence[str]) -> str | None:
    """The client's address: the peer, or the nearest untrusted hop of ``X-Forwarded-For`` behind a proxy."""
    if request.client is None:
        return None
    networks = _networks(tuple(trusted_proxies))
    address = request.client.host
    if not _is_trusted(address, networks):
        return address
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        address = hop
        if not _is_trusted(hop, networks):
            break
    return address
