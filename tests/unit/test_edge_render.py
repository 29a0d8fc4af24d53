"""The edge's pure parts: kamailio.cfg rendered from the configuration (and accepted by Kamailio's own
check), the HA1 subscriber table, the trusted source header, the status figures, and the settings."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from firmware import settings as settings_mod
from firmware.edge import credentials, figures, render, trust
from firmware.edge.process import check_config, write_files


def config(edge=None, operators=None, lines=None) -> settings_mod.Settings:
    return settings_mod.from_dict({
        "sip": {"address": "127.0.0.1", "port": 5060},
        "prompts": {"p": {"tone_hz": 400}},
        "menus": [{"name": "m", "prompt": "p"}],
        "lines": lines if lines is not None else [
            {"name": "trunk", "allow": ["203.0.113.7", "198.51.100.0/24"], "routes": [{"day_menu": "m"}]}],
        "operators": operators or [],
        "edge": {} if edge is None else edge,
    })


def plan(settings, tmp_path: Path, **ports) -> render.EdgePlan:
    return render.EdgePlan(settings, ports.get("public", 5060), ports.get("internal", 5062),
                           ports.get("engine", 5070), tmp_path / "edge")


def test_render_fills_every_placeholder_and_is_deterministic(tmp_path):
    p = plan(config({"realm": "office", "ban_s": 900, "flood_requests": 25}), tmp_path)
    text = render.render(p)
    assert "{{" not in text and text == render.render(p)
    assert "listen=udp:127.0.0.1:5060\n" in text and "listen=udp:127.0.0.1:5062\n" in text
    assert '$du = "sip:127.0.0.1:5070";' in text
    assert 'auth_check("office", "subscriber", "1")' in text
    assert "ipban=>size=8;autoexpire=900;" in text
    assert 'modparam("pike", "reqs_density_per_unit", 25)' in text
    assert f'modparam("auth_db", "db_url", "text://{tmp_path / "edge" / "db"}")' in text


def test_lines_allow_lists_and_edge_trusted_are_never_banned(tmp_path):
    settings = config({"trusted": ["10.0.0.0/8"]})
    assert render.trusted_networks(settings) == ["10.0.0.0/8", "203.0.113.7/32", "198.51.100.0/24"]
    assert 'is_in_subnet("$si", "10.0.0.0/8,203.0.113.7/32,198.51.100.0/24")' in render.render(plan(settings, tmp_path))
    no_lines = config(lines=[])
    assert "is_in_subnet" not in render.render(plan(no_lines, tmp_path))


def test_public_address_is_advertised(tmp_path):
    data = config().model_dump(mode="json", exclude_none=True)
    data["sip"]["public_address"] = "192.0.2.10"
    text = render.render(plan(settings_mod.from_dict(data), tmp_path))
    assert "listen=udp:127.0.0.1:5060 advertise 192.0.2.10:5060\n" in text


def test_scanner_regex_matches_whatever_the_case_and_nothing_else():
    regex = re.compile(render.scanner_regex(["friendly-scanner", "sipvicious", "VaxSIPUserAgent"]))
    for ua in ("friendly-scanner", "Friendly-Scanner 1.0", "sipvicious 0.3", "SIPVICIOUS", "VaxSIPUserAgent/3.1"):
        assert regex.search(ua), ua
    for ua in ("Yealink SIP-T46S", "Grandstream HT813", "switchboard-sim-phone", "friendly scanner"):
        assert not regex.search(ua), ua


def test_render_refuses_unresolved_or_clashing_ports(tmp_path):
    with pytest.raises(ValueError, match="internal port must be chosen"):
        render.render(plan(config(), tmp_path, internal=0))
    with pytest.raises(ValueError, match="must differ"):
        render.render(plan(config(), tmp_path, engine=5060))
    with pytest.raises(ValueError, match="no \\[edge\\]"):
        render.render(plan(config().model_copy(update={"edge": None}), tmp_path))


def test_kamailio_accepts_the_rendered_configuration(tmp_path):
    operators = [{"name": "bob", "kind": "sip", "username": "bob", "ha1": credentials.ha1("bob", "switchboard", "pw")}]
    path = write_files(plan(config(operators=operators), tmp_path, public=25060, internal=25062, engine=25070))
    check_config(path)  # raises with Kamailio's own message when it refuses
    broken = path.with_name("broken.cfg")
    broken.write_text(path.read_text().replace("route(RELAY);", "route(RELAY)", 1))
    with pytest.raises(Exception, match="kamailio refused"):
        check_config(broken)


def test_ha1_is_the_rfc_2617_digest():
    # RFC 2617, section 3.5: Mufasa / testrealm@host.com / Circle Of Life
    assert credentials.ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == "939e7578ed9e3c518a452acee763bce9"


def test_subscriber_table_holds_only_phones_with_a_password(tmp_path):
    digest = credentials.ha1("alice", "switchboard", "secret-1")
    settings = config(operators=[
        {"name": "alice", "kind": "sip", "username": "alice", "ha1": digest},
        {"name": "bob", "kind": "sip", "username": "bob"},  # no password yet: cannot register
        {"name": "carol", "kind": "sip", "uri": "sip:carol@192.0.2.5"},
    ])
    table = credentials.subscriber_table(settings)
    assert table.splitlines() == [credentials.SUBSCRIBER_HEADER, f"1:alice:::{digest}:"]
    db = tmp_path / "db"
    assert credentials.write_tables(settings, db) is True
    assert credentials.write_tables(settings, db) is False  # unchanged: not rewritten
    assert (db / "version").read_text().splitlines()[1] == "0:subscriber:7"
    assert (db / "subscriber").stat().st_mode & 0o777 == 0o600


def test_the_source_header_is_believed_only_from_the_edge():
    edge = "127.0.0.1:5062"
    msg = "INVITE sip:100@127.0.0.1 SIP/2.0\r\nX-Switchboard-Source: 198.51.100.9\r\nFrom: <sip:a@b>\r\n\r\n"
    assert trust.real_source(edge, msg, edge) == "198.51.100.9"
    assert trust.real_source("127.0.0.1:40000", msg, edge) == "127.0.0.1"  # not the edge: its own address
    assert trust.real_source("203.0.113.5:5060", msg, None) == "203.0.113.5"  # no edge at all
    twice = msg.replace("From:", "X-Switchboard-Source: 127.0.0.1\r\nFrom:")
    assert trust.real_source(edge, twice, edge) == "127.0.0.1"  # ambiguous: the edge's own loopback
    garbage = msg.replace("198.51.100.9", "evil.example")
    assert trust.real_source(edge, garbage, edge) == "127.0.0.1"
    assert trust.real_source("[::1]:5062", msg.replace("198.51.100.9", "[2001:db8::5]"), "[::1]:5062") == "2001:db8::5"


def test_figures_from_kamailio_answers():
    stats = [{"entry": 1, "size": 2, "slot": [{"name": "bans", "value": 2, "type": "int"},
                                               {"name": "scanners", "value": 1, "type": "int"}]}]
    bans = [{"entry": 3, "size": 1, "slot": [{"name": "192.0.2.66", "value": "scanner", "type": "str"}]}]
    ul = {"Domains": [{"Domain": {"Domain": "location", "AoRs": [{"Info": {"AoR": "alice", "Contacts": [
        {"Contact": {"Address": "sip:alice@192.0.2.20:5060", "Expires": 280, "User-Agent": "Yealink"}}]}}]}}]}
    result = figures.status(stats, bans, ul)
    assert result["counts"]["bans"] == 2 and result["counts"]["scanners"] == 1 and result["counts"]["floods"] == 0
    assert result["banned"] == [{"address": "192.0.2.66", "reason": "scanner"}]
    assert result["registrations"] == [{"user": "alice", "contact": "sip:alice@192.0.2.20:5060", "expires": 280,
                                        "user_agent": "Yealink"}]
    assert figures.status([], [], {"Domains": [{"Domain": {"AoRs": []}}]})["registrations"] == []


def test_settings_for_registering_operators():
    alice = {"name": "alice", "kind": "sip", "username": "alice"}
    op = config(operators=[alice]).operator("alice")
    assert op.dial_uri == f"sip:alice@{settings_mod.REGISTERED_DOMAIN}"
    static = config(operators=[{"name": "c", "kind": "sip", "uri": "sip:c@192.0.2.5"}]).operator("c")
    assert static.dial_uri == "sip:c@192.0.2.5"
    with pytest.raises(settings_mod.SettingsError, match="need the edge"):
        settings_mod.from_dict({"operators": [alice]})
    with pytest.raises(settings_mod.SettingsError, match="same user name"):
        config(operators=[alice, {**alice, "name": "alice2"}])
    with pytest.raises(settings_mod.SettingsError, match="or a username"):
        config(operators=[{"name": "x", "kind": "sip"}])
    with pytest.raises(settings_mod.SettingsError, match="ha1"):
        config(operators=[{**alice, "ha1": "not-a-digest"}])
    with pytest.raises(settings_mod.SettingsError, match="give the box's own address"):
        settings_mod.from_dict({"sip": {"address": "0.0.0.0"}, "edge": {}})
    assert settings_mod.from_dict({"sip": {"address": "0.0.0.0", "public_address": "192.0.2.4"}, "edge": {}}).edge
    with pytest.raises(settings_mod.SettingsError, match="scanner_agents"):
        config({"scanner_agents": ['bad"quote']})


def test_edge_render_command_writes_a_checked_configuration(tmp_path):
    import sys
    root = Path(__file__).resolve().parents[2]
    box = tmp_path / "box.toml"
    box.write_text(settings_mod.to_toml(config()))
    data = tmp_path / "data"
    run = lambda *a: subprocess.run([sys.executable, "-m", "firmware.cli", "--data-dir", str(data), *a],
                                    cwd=root, capture_output=True, text=True, timeout=60)
    assert run("config", "import", str(box)).returncode == 0
    result = run("edge", "render", "--check")
    assert result.returncode == 0, result.stderr
    assert (data / "edge" / "kamailio.cfg").exists() and (data / "edge" / "db" / "subscriber").exists()


def test_a_second_change_within_one_second_still_changes_the_modification_second(tmp_path):
    db = tmp_path / "db"
    op = {"name": "alice", "kind": "sip", "username": "alice"}
    credentials.write_tables(config(operators=[{**op, "ha1": credentials.ha1("alice", "switchboard", "one")}]), db)
    first = int((db / "subscriber").stat().st_mtime)
    credentials.write_tables(config(operators=[{**op, "ha1": credentials.ha1("alice", "switchboard", "two")}]), db)
    assert int((db / "subscriber").stat().st_mtime) > first


def test_a_new_configuration_applies_credentials_at_once_and_says_what_waits(tmp_path):
    from firmware.edge.process import Edge
    op = {"name": "alice", "kind": "sip", "username": "alice"}
    edge = Edge(plan(config(operators=[op]), tmp_path))
    table = tmp_path / "edge" / "db" / "subscriber"
    with_password = config(operators=[{**op, "ha1": credentials.ha1("alice", "switchboard", "pw-12345")}])
    assert edge.apply(with_password) == []  # credentials only: nothing waits
    assert "1:alice:::" in table.read_text()
    assert edge.apply(config({"ban_s": 60}, operators=[op])) == ["the edge's settings apply when the edge restarts"]
    assert "alice" not in table.read_text().splitlines()[-1]  # the password was removed at once
