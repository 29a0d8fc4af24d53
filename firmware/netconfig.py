"""The box's network settings from the console: DHCP or a static address, as a NetworkManager
keyfile (Raspberry Pi OS bookworm uses NetworkManager).

Rendering and reading the file are pure functions. The file lives on the data partition
(`<data>/network/switchboard-<interface>.nmconnection`) because the root file system is read-only;
switchboard-network.service copies it into /etc/NetworkManager/system-connections at every boot and
whenever the console changes it, and brings the connection up.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

NAMESPACE = uuid.UUID("6f1c2a7e-4d0b-4f53-9a55-3b1f0c7d2e10")  # stable profile UUIDs per interface
APPLY_UNIT = "switchboard-network.service"


class NetworkSettingsError(ValueError):
    """Settings refused, with the reason; nothing written."""


@dataclass(frozen=True)
class NetSettings:
    interface: str = "eth0"
    method: str = "dhcp"  # or "static"
    address: str = ""  # 192.168.1.50/24
    gateway: str = ""
    dns: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        if self.method == "dhcp":
            return f"{self.interface}: DHCP"
        dns = ", ".join(self.dns) or "none"
        return f"{self.interface}: static {self.address}, gateway {self.gateway or 'none'}, DNS {dns}"


def validate(s: NetSettings) -> NetSettings:
    """The settings, normalised, or NetworkSettingsError with the reason."""
    if not s.interface or not s.interface.replace("-", "").replace("_", "").isalnum() or len(s.interface) > 15:
        raise NetworkSettingsError(f"bad interface name {s.interface!r}")
    if s.method == "dhcp":
        return NetSettings(s.interface, "dhcp")
    if s.method != "static":
        raise NetworkSettingsError(f"method must be dhcp or static, not {s.method!r}")
    if "/" not in s.address:
        raise NetworkSettingsError(f"give the address with its prefix length, e.g. 192.168.1.50/24 (not {s.address!r})")
    try:
        iface = ipaddress.IPv4Interface(s.address)
    except ValueError as exc:
        raise NetworkSettingsError(f"bad address {s.address!r}: {exc}") from None
    if iface.ip in (iface.network.network_address, iface.network.broadcast_address) and iface.network.prefixlen < 31:
        raise NetworkSettingsError(f"{iface.ip} is the network's own or broadcast address")
    gateway = ""
    if s.gateway:
        try:
            gw = ipaddress.IPv4Address(s.gateway)
        except ValueError:
            raise NetworkSettingsError(f"bad gateway {s.gateway!r}") from None
        if gw not in iface.network:
            raise NetworkSettingsError(f"gateway {gw} is not in {iface.network}")
        gateway = str(gw)
    dns = []
    for d in s.dns:
        try:
            dns.append(str(ipaddress.ip_address(d)))
        except ValueError:
            raise NetworkSettingsError(f"bad DNS server {d!r}") from None
    return NetSettings(s.interface, "static", str(iface), gateway, tuple(dns))


def connection_id(interface: str) -> str:
    return f"switchboard-{interface}"


def render(s: NetSettings) -> str:
    """The NetworkManager keyfile for these settings."""
    s = validate(s)
    lines = ["[connection]", f"id={connection_id(s.interface)}",
             f"uuid={uuid.uuid5(NAMESPACE, s.interface)}", "type=ethernet", f"interface-name={s.interface}",
             "autoconnect=true", "autoconnect-priority=100", "", "[ethernet]", "", "[ipv4]"]
    if s.method == "dhcp":
        lines.append("method=auto")
    else:
        lines.append("method=manual")
        lines.append(f"address1={s.address}" + (f",{s.gateway}" if s.gateway else ""))
        if s.dns:
            lines.append("dns=" + "".join(f"{d};" for d in s.dns))
            lines.append("ignore-auto-dns=true")
    lines += ["", "[ipv6]", "method=auto", ""]
    return "\n".join(lines)


def parse(text: str) -> NetSettings:
    """Settings back from a keyfile this module wrote."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(text)
    interface = cp.get("connection", "interface-name", fallback="eth0")
    if cp.get("ipv4", "method", fallback="auto") == "auto":
        return NetSettings(interface, "dhcp")
    address, _, gateway = cp.get("ipv4", "address1", fallback="").partition(",")
    dns = tuple(d for d in cp.get("ipv4", "dns", fallback="").split(";") if d)
    return NetSettings(interface, "static", address, gateway, dns)


def path_for(data_dir: Path, interface: str) -> Path:
    return Path(data_dir) / "network" / f"{connection_id(interface)}.nmconnection"


def stored(data_dir: Path, interface: str = "eth0") -> NetSettings:
    path = path_for(data_dir, interface)
    return parse(path.read_text()) if path.exists() else NetSettings(interface, "dhcp")


def save(data_dir: Path, s: NetSettings) -> Path:
    """Write the keyfile atomically (0600: NetworkManager ignores keyfiles others can read)."""
    text = render(s)
    path = path_for(data_dir, s.interface)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
