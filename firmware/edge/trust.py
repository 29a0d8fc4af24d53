"""Which address a request really came from. Behind the edge every request reaches the engine from
the edge's loopback socket; the edge names the real source in a header (after removing any such
header sent from outside). The header is believed only from the edge's exact address."""

from __future__ import annotations

import ipaddress
import re

from firmware.edge.render import OPERATOR_HEADER, SOURCE_HEADER

HEADER = re.compile(rf"^{re.escape(SOURCE_HEADER)}\s*:\s*(\S+)\s*$", re.I | re.M)
OPERATOR = re.compile(rf"^{re.escape(OPERATOR_HEADER)}\s*:\s*(.*?)\s*$", re.I | re.M)
USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,32}$")  # what settings.Operator.username allows


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


def trusted_operator(source: str, message: str, edge_address: str | None) -> str | None:
    """The operator's SIP user name the edge authenticated, or None. Believed only from the edge's
    exact loopback address (without the edge, never), only when there is exactly one such header and
    it holds a valid user name: anything else is an ordinary call, checked against the lines."""
    if edge_address is None or source != edge_address:
        return None
    found = OPERATOR.findall(message)
    if len(found) != 1 or not USERNAME.match(found[0]):
        return None
    return found[0]
