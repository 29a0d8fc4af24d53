"""Which address a request really came from. Behind the edge every request reaches the engine from
the edge's loopback socket; the edge names the real source in a header (after removing any such
header sent from outside). The header is believed only from the edge's exact address."""

from __future__ import annotations

import ipaddress
import re

from firmware.edge.render import SOURCE_HEADER

HEADER = re.compile(rf"^{re.escape(SOURCE_HEADER)}\s*:\s*(\S+)\s*$", re.I | re.M)


def host_of(source: str) -> str:
    """'127.0.0.1:5062' -> '127.0.0.1'; '[::1]:5062' -> '::1'."""
    return source.rsplit(":", 1)[0].strip("[]")


def real_source(source: str, message: str, edge_address: str | None) -> str:
    """The host to check against the lines' allow lists. From anywhere but the edge: the packet's own
    source. From the edge: the address in its header (a request from the edge without one, or with
    something that is not an address, is treated as coming from the edge's loopback itself, which
    only lines allowing 127.0.0.1 accept)."""
    host = host_of(source)
    if edge_address is None or source != edge_address:
        return host
    found = HEADER.findall(message)
    if len(found) != 1:
        return host
    try:
        return str(ipaddress.ip_address(found[0].strip("[]")))
    except ValueError:
        return host
