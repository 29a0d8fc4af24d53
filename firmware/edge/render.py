"""kamailio.cfg from the box's configuration: a pure function of an `EdgePlan` (settings plus the
ports and paths chosen at start-up), so the same text comes out for the same plan and tests can
check it with `kamailio -c`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from firmware.settings import REGISTERED_DOMAIN, Settings

TEMPLATE = Path(__file__).with_name("kamailio.cfg.in")
SOURCE_HEADER = "X-Switchboard-Source"
OPERATOR_HEADER = "X-Switchboard-Operator"  # the SIP user name the edge authenticated (an operator dialling out)
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class EdgePlan:
    """Everything the edge's configuration depends on, resolved (no port 0 left)."""

    settings: Settings
    public_port: int
    internal_port: int
    engine_port: int
    run_dir: Path  # sockets and the subscriber table live here
    children: int = 2
    log_level: int = 1  # Kamailio's debug level: 1 = notices (malformed requests), warnings (bans), errors

    @property
    def rpc_socket(self) -> Path:
        return self.run_dir / "kamailio-rpc.sock"

    @property
    def ctl_socket(self) -> Path:
        return self.run_dir / "kamailio-ctl.sock"

    @property
    def db_dir(self) -> Path:
        return self.run_dir / "db"

    @property
    def config_file(self) -> Path:
        return self.run_dir / "kamailio.cfg"

    @property
    def internal_address(self) -> str:
        """The edge's side facing the engine, as the engine sees it in a request's source."""
        return f"127.0.0.1:{self.internal_port}"


def scanner_regex(agents: list[str]) -> str:
    """One POSIX extended regex matching any of the fragments whatever their case (Kamailio's =~ is
    case-sensitive, so each letter becomes a [xX] class)."""
    def fragment(text: str) -> str:
        out = []
        for ch in text:
            if ch.isalpha():
                out.append(f"[{ch.lower()}{ch.upper()}]")
            elif ch in "._/-":
                out.append(f"[{ch}]")
            else:
                out.append(ch)
        return "".join(out)
    return "|".join(fragment(a) for a in agents) or "^$never^"


def trusted_networks(settings: Settings) -> list[str]:
    """Addresses never banned: the edge's own list and every SIP line's allow list."""
    nets: list[str] = list(settings.edge.trusted)
    for line in settings.lines:
        nets.extend(line.allow)
    return [n if "/" in n else f"{n}/{'128' if ':' in n else '32'}" for n in dict.fromkeys(nets)]


def line_networks(settings: Settings) -> list[str]:
    """The lines' allow lists: INVITEs from there are line calls (no password); from anywhere else an
    INVITE must authenticate as an operator."""
    nets = [n for line in settings.lines for n in line.allow]
    return [n if "/" in n else f"{n}/{'128' if ':' in n else '32'}" for n in dict.fromkeys(nets)]


def render(plan: EdgePlan) -> str:
    settings, edge = plan.settings, plan.settings.edge
    if edge is None:
        raise ValueError("the configuration has no [edge]")
    for name, port in (("public", plan.public_port), ("internal", plan.internal_port), ("engine", plan.engine_port)):
        if not 0 < port < 65536:
            raise ValueError(f"the edge's {name} port must be chosen before rendering (got {port})")
    if len({plan.public_port, plan.internal_port, plan.engine_port}) < 3 and settings.sip.address in (
            "127.0.0.1", "0.0.0.0"):
        raise ValueError("the public, internal and engine ports must differ")
    nets = trusted_networks(settings)
    trusted = (f'\tif (is_in_subnet("$si", "{",".join(nets)}")) {{\n\t\t$var(trusted) = 1;\n\t}}' if nets else "")
    lines = line_networks(settings)
    line_check = (f'\tif (is_in_subnet("$si", "{",".join(lines)}")) {{\n\t\t$var(line) = 1;\n\t}}' if lines else "")
    public = settings.sip.address
    values = {
        "log_level": plan.log_level,
        "log_prefix": "edge: ",
        "children": plan.children,
        "run_dir": plan.run_dir,
        "public_address": public,
        "public_port": plan.public_port,
        "advertise": f" advertise {settings.sip.public_address}:{plan.public_port}" if settings.sip.public_address else "",
        "internal_port": plan.internal_port,
        "engine_port": plan.engine_port,
        "ctl_socket": plan.ctl_socket,
        "rpc_socket": plan.rpc_socket,
        "db_dir": plan.db_dir,
        "register_expires": edge.register_expires_s,
        "ban_s": edge.ban_s,
        "failure_window_s": edge.failure_window_s,
        "flood_window_s": edge.flood_window_s,
        "flood_requests": edge.flood_requests,
        "ban_after_failures": edge.ban_after_failures,
        "realm": edge.realm,
        "scanner_regex": scanner_regex(edge.scanner_agents),
        "trusted_check": trusted,
        "source_header": SOURCE_HEADER,
        "operator_header": OPERATOR_HEADER,
        "line_check": line_check,
        "registered_domain": REGISTERED_DOMAIN,
        # A wildcard public address cannot be forced as a sending socket: Kamailio then picks one.
        "outbound_socket": "" if public == "0.0.0.0" else f"\tforce_send_socket(udp:{public}:{plan.public_port});",
    }

    def fill(match: re.Match) -> str:
        return str(values[match.group(1)])

    return PLACEHOLDER.sub(fill, TEMPLATE.read_text())
