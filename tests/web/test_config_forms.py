"""The configuration forms against a real engine (`switchboard run --sim`): each section saved through
the settings schema and applied, bad input refused beside its field with nothing saved, uploads and
typed text made into prompts the browser can play, deletes refused while something refers to them."""

from __future__ import annotations

import io

import pytest

from firmware import prompts
from tests.e2e.boxes import box
from tests.web.forms import base_id, logged_in_admin, post_form, running_engine, saved_count, stored, text


@pytest.fixture
def engine(tmp_path):
    with running_engine(tmp_path, box()) as engine:
        yield engine


@pytest.fixture
def admin(engine):
    return logged_in_admin(engine)


MENU = {"name": "main", "prompt": "menu", "option-1": "queue:desk", "option-2": "message:bye", "timeout_s": "6",
        "retries": "1", "on_invalid": "hangup", "on_noinput": "hangup"}


def test_ivr_menu_form_saves_applies_and_refuses_bad_input_beside_the_field(engine, admin):
    page = text(admin.get("/config"))
    assert "line gw" in page and "menu main" in page and "queue:desk" in page  # the tree
    before = saved_count(engine)

    refused = post_form(admin, "/config/menus/main/edit", {**MENU, "option-3": "menu:nowhere", "timeout_s": "soon",
                                                           "retries": "50"})
    page = text(refused)
    assert refused.status_code == 422 and "Nothing was changed" in page
    assert 'name="timeout_s" value="soon" aria-invalid="true" aria-describedby="err-timeout_s"' in page
    assert '<span class="field-error" id="err-timeout_s">Input should be a valid number' in page
    assert 'id="err-retries">Input should be less than or equal to 10' in page
    assert 'value="menu:nowhere"' in page  # what was typed is kept
    assert saved_count(engine) == before

    # Names that refer to nothing are checked once the values are right.
    response = post_form(admin, "/config/menus/main/edit", {**MENU, "option-3": "menu:more", "option-2": ""})
    assert response.status_code == 422 and 'id="err-options.3">there is no menu &#39;more&#39;' in text(response)
    response = post_form(admin, "/config/menus/new", {"name": "more", "prompt": "bye", "option-9": "menu:main",
                                                      "timeout_s": "3"}, follow_redirects=True)
    assert "Menu more: Saved and applied" in text(response)
    response = post_form(admin, "/config/menus/main/edit", {**MENU, "option-3": "menu:more", "option-2": ""},
                         follow_redirects=True)
    assert "Menu main: Saved and applied" in text(response)
    menu = stored(engine)["menus"][0]
    assert menu["options"] == {"1": "queue:desk", "3": "menu:more"} and menu["timeout_s"] == 6
    page = text(admin.get("/config"))
    assert "↺ back to" in page and "menu more" in page  # more -> main is shown as a loop, not followed

    # A menu still used is not deleted; the reason is shown.
    response = admin.post("/config/menus/more/delete", {"base_id": base_id(text(admin.get("/config/menus/more/edit")))})
    assert response.status_code == 422 and "menus.main.options.3" in text(response) and "was not deleted" in text(response)
    assert len(stored(engine)["menus"]) == 2
    # A form based on an old version does not overwrite a newer one.
    old = base_id(text(admin.get("/config/menus/main/edit")))
    post_form(admin, "/config/queues/desk/edit", {"name": "desk", "member": "st1", "strategy": "linear"})
    response = admin.post("/config/menus/main/edit", {**MENU, "base_id": old})
    assert response.status_code == 409 and "changed elsewhere" in text(response) and "Save anyway" in text(response)


def test_queue_operator_line_and_hours_forms(engine, admin):
    response = post_form(admin, "/config/operators/new", {"name": "alice", "kind": "sip", "uri": "alice@nowhere"})
    assert response.status_code == 422 and 'id="problems"' in text(response)
    assert "a sip operator needs uri" in text(response).split('id="problems"')[1].split("</div>")[0]
    response = post_form(admin, "/config/operators/new", {"name": "alice", "kind": "sip",
                                                          "uri": "sip:alice@127.0.0.1:5999", "login": "logged_out"},
                         follow_redirects=True)
    assert "Operator alice: Saved and applied" in text(response)
    assert [op["name"] for op in engine.status()["operators"]] == ["st1", "alice"]

    response = post_form(admin, "/config/queues/desk/edit", {
        "name": "desk", "member": ["alice", "", "st1"], "strategy": "round_robin", "ring_timeout_s": "-3",
        "fallback": "message:bye", "music": "music", "record": "on"})
    assert response.status_code == 422 and 'id="err-ring_timeout_s">Input should be greater than or equal to 0' in text(response)
    response = post_form(admin, "/config/queues/desk/edit", {
        "name": "desk", "member": ["alice", "", "st1"], "strategy": "round_robin", "ring_timeout_s": "9",
        "fallback": "message:bye", "music": "music", "record": "on"}, follow_redirects=True)
    assert "Queue desk: Saved and applied" in text(response)
    queue = stored(engine)["queues"][0]
    assert queue["operators"] == ["alice", "st1"] and queue["strategy"] == "round_robin" and queue["ring_timeout_s"] == 9
    assert "max_wait_s" not in queue  # a field left empty takes the schema's default

    response = post_form(admin, "/config/lines/gw/edit", {"name": "gw", "kind": "fxo_gateway", "allow": "not-an-ip",
                                                          "route_rows": "1", "route-0-number": "*",
                                                          "route-0-day_menu": "main"})
    assert response.status_code == 422 and 'id="err-allow"' in text(response)
    response = post_form(admin, "/config/lines/gw/edit", {"name": "gw", "kind": "fxo_gateway",
                                                          "allow": "127.0.0.1, 10.1.0.0/16", "route_rows": "2",
                                                          "route-0-number": "*", "route-0-day_menu": "main",
                                                          "route-0-greeting": "greeting"}, follow_redirects=True)
    assert "Line gw: Saved and applied" in text(response)
    assert stored(engine)["lines"][0]["allow"] == ["127.0.0.1", "10.1.0.0/16"]

    response = post_form(admin, "/config/hours", {"timezone": "Mars/Olympus", "period_rows": "2", "period-0-mon": "on",
                                                  "period-0-open": "17:00", "period-0-close": "09:00",
                                                  "holidays": "2026-12-25 someday"})
    page = text(response)
    assert response.status_code == 422
    assert 'id="err-timezone">unknown time zone' in page and "close must be after open" in page
    assert "Input should be a valid date" in page and "someday" in page
    response = post_form(admin, "/config/hours", {"timezone": "Europe/Berlin", "period_rows": "2",
                                                  "period-0-mon": "on", "period-0-tue": "on", "period-0-open": "09:00",
                                                  "period-0-close": "17:00", "holidays": "2026-12-25"},
                         follow_redirects=True)
    assert "Business hours: Saved and applied" in text(response)
    hours = stored(engine)["hours"]
    assert hours["timezone"] == "Europe/Berlin" and hours["weekly"][0]["days"] == ["mon", "tue"]
    assert str(hours["holidays"][0]) == "2026-12-25"
    response = admin.post("/hours", {"mode": "night", "back": "hours"}, follow_redirects=True)
    assert "The office is now closed (switch: night)" in text(response) and "Business hours" in text(response)
    admin.post("/hours", {"mode": "auto"})


def test_prompts_typed_uploaded_and_played(engine, admin):
    response = post_form(admin, "/config/prompts/new", {"name": "hello", "source": "text", "text": "Hello and welcome."},
                         follow_redirects=True)
    assert "Prompt hello: Saved and applied" in text(response)
    audio = admin.get("/config/prompts/hello/audio")
    assert audio.status_code == 200 and audio.mimetype == "audio/wav" and audio.data[:4] == b"RIFF"
    assert len(audio.data) > 8000  # about a second of 8 kHz speech at least
    ranged = admin.get("/config/prompts/hello/audio", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.data) == 100

    # An upload: a 2 s tone as a 16 kHz WAV, made into the box's 8 kHz format by sox.
    wav = engine.data_dir.parent / "upload.wav"
    import numpy as np, wave
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes((0.3 * 32767 * np.sin(2 * np.pi * 700 * np.arange(32000) / 16000)).astype("<i2").tobytes())
    response = post_form(admin, "/config/prompts/new", {"name": "recorded", "source": "file",
                                                        "upload": (io.BytesIO(wav.read_bytes()), "Welcome.WAV")},
                         content_type="multipart/form-data", follow_redirects=True)
    assert "Prompt recorded: Saved and applied" in text(response), text(response)[:3000]
    kept = stored(engine)["prompts"]["recorded"]["file"]
    assert kept.startswith(str(engine.data_dir / "prompt-uploads"))
    played = admin.get("/config/prompts/recorded/audio")
    with wave.open(io.BytesIO(played.data)) as w:
        assert w.getframerate() == prompts.RATE and abs(w.getnframes() / prompts.RATE - 2.0) < 0.05

    response = post_form(admin, "/config/prompts/new", {"name": "junk", "source": "file",
                                                        "upload": (io.BytesIO(b"MZ\x90\x00"), "setup.exe")},
                         content_type="multipart/form-data")
    assert response.status_code == 400 and 'id="err-file">setup.exe: not an audio file' in text(response)
    response = post_form(admin, "/config/prompts/new", {"name": "junk", "source": "file",
                                                        "upload": (io.BytesIO(b"not audio at all"), "fake.wav")},
                         content_type="multipart/form-data")
    assert response.status_code == 422 and "sox failed" in text(response)
    assert "junk" not in stored(engine)["prompts"]
    assert sorted(p.name for p in (engine.data_dir / "prompt-uploads").iterdir()) == [kept.rsplit("/", 1)[1]]

    response = post_form(admin, "/config/prompts/new", {"name": "beep", "source": "tone", "tone_hz": "5000"})
    assert response.status_code == 422 and 'id="err-tone_hz">Input should be less than or equal to 3800' in text(response)
    assert admin.get("/config/prompts/nothing/audio").status_code == 404
    page = text(admin.get("/config/prompts"))
    assert 'src="/config/prompts/hello/audio"' in page and "speech: “Hello and welcome.”" in page
