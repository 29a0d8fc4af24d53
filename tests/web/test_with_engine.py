"""The web admin against a real engine (`switchboard run --sim`): operator buttons, the day/night switch,
saving a configuration, deleting a recording through the `delete_recording` control command, and the
setup code in `switchboard status`."""

from __future__ import annotations

import tomllib

import pytest

from firmware.control.client import ControlError, request
from firmware.store import db as dbmod, queries
from firmware.store.writer import Writer
from tests.e2e.conftest import Engine, free_port, switchboard
from tests.web.conftest import Admin, csrf_of
from web import create_app


@pytest.fixture
def engine(data_dir, tmp_path):
    """An engine on the filled store; c2's recording is set to a file outside the recordings folder."""
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"RIFF....WAVE")
    writer = Writer(data_dir)
    writer.call_updated("c2", recording=str(outside))
    writer.flush()
    writer.close()
    engine = Engine(data_dir, free_port()).start()
    yield engine
    code = engine.stop()
    log = engine.log()
    assert "Traceback" not in log, log[-3000:]
    assert code == 0, log[-3000:]


def text(response) -> str:
    return response.get_data(as_text=True)


def operator(engine, name: str) -> dict:
    return next(op for op in engine.status()["operators"] if op["name"] == name)


def test_dashboard_shows_the_live_engine_and_its_buttons_work(engine, admin):
    data = admin.get("/api/status").get_json()
    assert data["engine"]["sip"]["port"] == engine.port and data["engine_error"] is None
    assert [op["name"] for op in data["engine"]["operators"]] == ["st1"]
    page = text(admin.get("/"))
    assert 'data-name="st1"' in page and "The engine is not running" not in page.split("hidden>")[0]

    response = admin.post("/operators/st1", {"action": "pause", "reason": "lunch"}, follow_redirects=True)
    assert "st1" in text(response)
    assert (operator(engine, "st1")["state"], operator(engine, "st1")["reason"]) == ("paused", "lunch")
    admin.post("/operators/st1", {"action": "ready"})
    assert operator(engine, "st1")["state"] == "ready"
    admin.post("/operators/st1", {"action": "logout"})
    assert operator(engine, "st1")["state"] == "logged_out"
    response = admin.post("/operators/nobody", {"action": "ready"}, follow_redirects=True)
    assert "Refused: no operator named" in text(response)

    response = admin.post("/hours", {"mode": "night"}, follow_redirects=True)
    assert "The office is now closed (switch: night)" in text(response)
    assert engine.status()["hours"] == {"open": False, "override": "night"}
    admin.post("/hours", {"mode": "auto"})
    assert engine.status()["hours"]["override"] == "auto"


def test_saving_a_configuration_applies_it(engine, admin):
    page = text(admin.get("/config/toml"))
    base_id = page.split('name="base_id" value="')[1].split('"')[0]
    current = queries.current_config(dbmod.open_read(engine.data_dir))
    changed = current.replace("ring_timeout_s = 3.0", "ring_timeout_s = 7.5")
    assert changed != current
    response = admin.post("/config/toml", {"toml": changed, "base_id": base_id}, follow_redirects=True)
    assert "Saved and applied: configuration applied" in text(response)
    stored = queries.current_config(dbmod.open_read(engine.data_dir))
    assert tomllib.loads(stored)["queues"][0]["ring_timeout_s"] == 7.5
    assert "ring_timeout_s = 7.5" in text(response)  # the editor shows the new one
    # A refused one (an unknown operator in the queue) changes nothing and lists the problem.
    bad = changed.replace('operators = [\n    "st1",\n]\nstrategy', 'operators = [\n    "ghost",\n]\nstrategy')
    assert bad != changed
    new_base = text(response).split('name="base_id" value="')[1].split('"')[0]
    refused = admin.post("/config/toml", {"toml": bad, "base_id": new_base})
    assert refused.status_code == 422 and "ghost" in text(refused)
    typo = changed.replace("[sip]\nport = 5060", "[sip]\nport = 99999\ncolour = \"red\"")
    assert typo != changed
    refused = text(admin.post("/config/toml", {"toml": typo, "base_id": new_base}))
    assert "Not saved: 2 problems" in refused
    assert '<code class="key">sip.port</code>' in refused and "99999" in refused
    assert '<code class="key">sip.colour</code>' in refused and "unknown key" in refused
    assert "port = 99999\ncolour = &#34;red&#34;" in refused  # the text as typed, nothing lost
    refused = admin.post("/config/toml", {"toml": "[sip\n", "base_id": new_base})
    assert refused.status_code == 422 and "not valid TOML" in text(refused)
    assert queries.current_config(dbmod.open_read(engine.data_dir)) == stored


def test_deleting_a_recording_goes_through_the_engine(engine, admin, data_dir, tmp_path):
    wav = data_dir / "recordings" / "c1.wav"
    assert admin.get("/recordings/c1/delete").status_code == 200 and wav.exists()
    response = admin.post("/recordings/c1/delete", follow_redirects=True)
    assert "recording of call c1 deleted" in text(response)
    assert not wav.exists()
    db = dbmod.open_read(data_dir)
    assert queries.call(db, "c1")["recording"] is None
    assert any("deleted the recording of call c1" in r["message"] and "web admin" in r["message"]
               for r in queries.log_entries(db))
    assert "/recordings/c1/audio" not in text(admin.get("/calls/c1"))
    assert admin.get("/recordings/c1/audio").status_code == 404
    # A recording path outside <data_dir>/recordings is refused by the engine and the file is kept.
    response = admin.post("/recordings/c2/delete", follow_redirects=True)
    assert "Not deleted: refused" in text(response) and (tmp_path / "outside.wav").exists()
    with pytest.raises(ControlError, match="no call"):
        request(data_dir, "delete_recording", call_id="nope")
    with pytest.raises(ControlError, match="has no recording"):
        request(data_dir, "delete_recording", call_id="c5")


def test_status_prints_the_setup_code_until_a_password_is_set(engine, data_dir):
    app = create_app(data_dir)
    code = (data_dir / "web" / "setup-code").read_text().strip()
    out = switchboard(data_dir, "status").stdout
    assert f"web admin setup code: {code} (open http://127.0.0.1:8080/setup)" in out
    client = app.test_client()
    token = csrf_of(text(client.get("/setup")))
    client.post("/setup", data={"code": code, "password": "a long enough one", "password_again": "a long enough one",
                                "csrf_token": token})
    assert Admin(client, app) and "setup code" not in switchboard(data_dir, "status").stdout
