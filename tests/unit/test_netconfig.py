"""Network settings rendered as NetworkManager keyfiles (pure; also run on arm64 by the image smoke test)."""

from __future__ import annotations

import configparser

import pytest

from firmware.netconfig import NetSettings, NetworkSettingsError, parse, render, validate


def keyfile(text: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(text)
    return cp


def test_dhcp():
    cp = keyfile(render(NetSettings("eth0", "dhcp")))
    assert cp["connection"]["id"] == "switchboard-eth0" and cp["connection"]["interface-name"] == "eth0"
    assert cp["connection"]["type"] == "ethernet" and cp["ipv4"]["method"] == "auto"
    assert "address1" not in cp["ipv4"]


def test_static_address_gateway_and_dns():
    s = NetSettings("eth0", "static", "192.168.1.50/24", "192.168.1.1", ("192.168.1.1", "9.9.9.9"))
    cp = keyfile(render(s))
    assert cp["ipv4"]["method"] == "manual"
    assert cp["ipv4"]["address1"] == "192.168.1.50/24,192.168.1.1"
    assert cp["ipv4"]["dns"] == "192.168.1.1;9.9.9.9;" and cp["ipv4"]["ignore-auto-dns"] == "true"
    assert parse(render(s)) == s
    assert s.describe() == "eth0: static 192.168.1.50/24, gateway 192.168.1.1, DNS 192.168.1.1, 9.9.9.9"


def test_the_profile_uuid_is_stable_per_interface():
    a, b = render(NetSettings("eth0")), render(NetSettings("eth0", "static", "10.0.0.2/8"))
    assert keyfile(a)["connection"]["uuid"] == keyfile(b)["connection"]["uuid"]
    assert keyfile(render(NetSettings("eth1")))["connection"]["uuid"] != keyfile(a)["connection"]["uuid"]


@pytest.mark.parametrize("settings, reason", [
    (NetSettings("eth0", "static", "192.168.1.50"), "prefix length"),
    (NetSettings("eth0", "static", "192.168.1.300/24"), "bad address"),
    (NetSettings("eth0", "static", "192.168.1.0/24"), "network's own or broadcast"),
    (NetSettings("eth0", "static", "192.168.1.50/24", "10.0.0.1"), "not in 192.168.1.0/24"),
    (NetSettings("eth0", "static", "192.168.1.50/24", "", ("dns.example",)), "bad DNS server"),
    (NetSettings("eth0; rm", "dhcp"), "bad interface name"),
    (NetSettings("eth0", "ppp"), "dhcp or static"),
])
def test_bad_settings_are_refused_with_the_reason(settings, reason):
    with pytest.raises(NetworkSettingsError, match=reason):
        validate(settings)
