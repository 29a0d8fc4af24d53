"""Voicemail boxes and the SIP edge in the web admin, against a real engine with Kamailio in front
(`switchboard run --sim`): the mailbox form, an operator's SIP password set from its form (stored as
HA1, and a real phone registers with it), the [edge] settings form, the edge's figures on the System
page and the unban button. Bad input is refused beside its field and nothing is saved."""

from __future__ import annotations

import socket

import pytest

from firmware.edge.credentials import ha1
from firmware.store import db as dbmod, queries
from tests.e2e.conftest import phone  # noqa: F401 (a fixture)
from tests.e2e.test_edge_sip import edge_box, wait_registered
from tests.web.forms import base_id, logged_in_admin, post_form, running_engine, saved_count, stored, text

PASSWORD = "phone-secret-9"


@pytest.fixture
def engine(tmp_path):
    with running_engine(tmp_path, edge_box()) as engine:
        yield engine


@pytest.fixture
def admin(engine):
    return logged_in_admin(engine)


def error_of(page: str, field: str) -> str:
    return page.split(f'id="err-{field}">')[1].split("</span>")[0]


def test_the_web_makes_the_edge_s_digest_and_knows_its_default_realm():
    from firmware import settings
    from web import confdoc
    assert confdoc.DEFAULT_REALM == settings.Edge().realm
    assert confdoc.ha1("alice", "switchboard", PASSWORD) == ha1("alice", "switchboard", PASSWORD)


def test_mailbox_form(engine, admin):
    before = saved_count(engine)
    refused = post_form(admin, "/config/mailboxes/new", {"name": "sales", "greeting": "greeting", "max_message_s": "2"})
    assert refused.status_code == 422
    assert "greater than or equal to 5" in error_of(text(refused), "max_message_s")
    assert 'value="sales"' in text(refused), "what was typed is kept"
    refused = post_form(admin, "/config/mailboxes/new", {"name": "sales", "greeting": "nope", "max_message_s": "60"})
    assert refused.status_code == 422 and "nope" in error_of(text(refused), "greeting")
    assert saved_count(engine) == before and not stored(engine).get("mailboxes")

    saved = post_form(admin, "/config/mailboxes/new", {"name": "sales", "greeting": "greeting", "max_message_s": "60"},
                      follow_redirects=True)
    assert "Mailbox sales: Saved and applied" in text(saved)
    assert stored(engine)["mailboxes"] == [{"name": "sales", "greeting": "greeting", "max_message_s": 60}]
    assert "greeting greeting · messages up to 60 s" in text(admin.get("/config/mailboxes"))
    assert 'value="voicemail:sales"' in text(admin.get("/config/menus/main/edit")), "offered as a destination"
    # A menu option to it, then the mailbox cannot be deleted while referred to.
    menu = text(admin.get("/config/menus/main/edit"))
    assert post_form(admin, "/config/menus/main/edit", {"name": "main", "prompt": "menu", "option-1": "queue:desk",
                                                        "option-3": "voicemail:sales", "timeout_s": "6",
                                                        "retries": "1"}).status_code == 302, menu
    refused = admin.post("/config/mailboxes/sales/delete", {"base_id": base_id(text(admin.get("/config/mailboxes/sales/edit")))})
    assert refused.status_code == 422 and "was not deleted" in text(refused)
    assert stored(engine)["mailboxes"][0]["name"] == "sales"


def test_operator_sip_password_is_stored_as_ha1_and_a_phone_registers_with_it(engine, admin, phone):
    path = "/config/operators/alice/edit"
    form = {"name": "alice", "kind": "sip", "username": "alice", "login": "ready"}
    before = saved_count(engine)
    refused = post_form(admin, path, {**form, "sip_password": "short", "sip_password_again": "short"})
    assert refused.status_code == 400 and "8 characters or more" in error_of(text(refused), "sip_password")
    assert "short" not in text(refused).split('id="item-form"')[1], "a password is never sent back"
    refused = post_form(admin, path, {**form, "sip_password": PASSWORD, "sip_password_again": PASSWORD + "x"})
    assert refused.status_code == 400 and "differ" in error_of(text(refused), "sip_password_again")
    assert saved_count(engine) == before and "ha1" not in stored(engine)["operators"][0]

    saved = post_form(admin, path, {**form, "sip_password": PASSWORD, "sip_password_again": PASSWORD},
                      follow_redirects=True)
    assert "Operator alice: Saved and applied" in text(saved)
    alice = stored(engine)["operators"][0]
    assert alice["ha1"] == ha1("alice", "switchboard", PASSWORD) and PASSWORD not in queries.current_config(
        dbmod.open_read(engine.data_dir))
    assert "registering as alice · password set" in text(admin.get("/config/operators"))
    # Saving the form again without a password keeps it; a new user name needs it again.
    assert post_form(admin, path, form).status_code == 302
    assert stored(engine)["operators"][0]["ha1"] == alice["ha1"]
    refused = post_form(admin, path, {**form, "username": "alice2"})
    assert refused.status_code == 400 and "type the phone&#39;s password again" in error_of(text(refused), "sip_password")

    p = phone("register", f"sip:127.0.0.1:{engine.port}", "--username", "alice", "--password", PASSWORD,
              "--bind", "127.0.0.2", "--max-seconds", "60")
    wait_registered(p)
    page = text(admin.get("/system"))
    assert 'id="edge-phones"' in page and "1 registered" in page


def test_edge_settings_form(engine, admin):
    page = text(admin.get("/config/edge"))
    assert 'name="enabled" checked' in page
    edge = stored(engine)["edge"]
    fields = {"enabled": "on", "engine_port": str(edge["engine_port"]), "internal_port": str(edge["internal_port"]),
              "flood_requests": "1", "trusted": "10.0.0.0/8 nonsense"}
    before = saved_count(engine)
    refused = post_form(admin, "/config/edge", fields)
    assert refused.status_code == 422
    assert "greater than or equal to 2" in error_of(text(refused), "flood_requests")
    assert "nonsense" in text(refused).split('id="err-trusted"')[1][:300]
    assert saved_count(engine) == before
    saved = post_form(admin, "/config/edge", {**fields, "flood_requests": "80", "trusted": "10.0.0.0/8",
                                              "scanner_agents": "friendly-scanner\nbad bot 2"}, follow_redirects=True)
    assert "SIP edge: Saved and applied" in text(saved)
    edge = stored(engine)["edge"]
    assert edge["flood_requests"] == 80 and edge["trusted"] == ["10.0.0.0/8"]
    assert edge["scanner_agents"] == ["friendly-scanner", "bad bot 2"]
    assert edge["engine_port"] == 0 and edge["internal_port"] == 0, "what the form showed is kept"


def test_edge_figures_and_unban_on_the_system_page(engine, admin):
    # A scanner: a request with a scanner's User-Agent from its own loopback address is banned.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.66", 0))
        port = s.getsockname()[1]
        s.sendto((f"OPTIONS sip:100@127.0.0.1:{engine.port} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.66:{port};branch=z9hG4bK-web-1\r\nMax-Forwards: 70\r\n"
                  f"From: <sip:scan@127.0.0.66>;tag=1\r\nTo: <sip:100@127.0.0.1>\r\nCall-ID: web-scan-1\r\n"
                  "CSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n").encode(),
                 ("127.0.0.1", engine.port))
    engine.wait_for(lambda: engine.status()["edge"]["banned"], what="the ban")
    page = text(admin.get("/system"))
    assert 'id="edge"' in page and "1 scanners" in page
    bans = page.split('id="edge-bans"')[1].split("</table>")[0]
    assert "127.0.0.66" in bans and "scanner" in bans and "Unban" in bans

    response = admin.post("/system/edge/unban", {"address": "not an address"}, follow_redirects=True)
    assert "is not an IP address" in text(response)
    response = admin.post("/system/edge/unban", {"address": "127.0.0.66"}, follow_redirects=True)
    assert "SIP edge: 127.0.0.66: ban lifted." in text(response)
    assert engine.status()["edge"]["banned"] == []
    assert admin.client.post("/system/edge/unban", data={"address": "127.0.0.66"}).status_code == 400  # no token
