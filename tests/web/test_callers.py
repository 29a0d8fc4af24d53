"""The missed-callers page against a real engine: the worklist, voicemail (play with Range, mark heard,
delete only when confirmed) and waiting callbacks, every change through the engine's control socket."""

from __future__ import annotations

import pytest

from firmware.store.writer import Writer
from tests.web.conftest import wav_bytes
from tests.web.test_with_engine import engine, text  # noqa: F401 (the fixture)


@pytest.fixture
def message(data_dir):
    path = data_dir / "voicemail" / "desk" / "c9.wav"
    path.parent.mkdir(parents=True)
    path.write_bytes(wav_bytes())
    writer = Writer(data_dir)
    writer.worklist_add("0301234567", "abandoned: caller hung up in queue", "c3")
    writer.worklist_add("0305550000", "left a voicemail", "c9")
    writer.message_saved({"call_id": "c9", "mailbox": "desk", "caller_id": "0305550000",
                          "at": "2026-11-23T09:00:00.000+00:00", "seconds": 7.0, "path": str(path)})
    writer.flush()
    writer.close()
    return path


def test_missed_callers_marked_done_messages_played_marked_and_deleted(message, engine, admin):
    page = text(admin.get("/callers"))
    assert "0301234567" in page and "abandoned: caller hung up in queue" in page and "left a voicemail" in page
    assert engine.status()["voicemail"]["unheard"] == 1

    audio = admin.get("/callers/messages/1.wav", headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and len(audio.data) == 100 and audio.mimetype == "audio/wav"

    admin.post("/callers/messages/1/heard")
    assert engine.status()["voicemail"]["unheard"] == 0
    page = text(admin.post("/callers/worklist/done", {"number": "0301234567"}, follow_redirects=True))
    assert "0301234567 marked done" in page
    assert "0301234567" not in page.split('id="voicemail"')[0].split("marked done")[1]
    assert "handled" in text(admin.get("/callers?all=1"))

    refused = text(admin.post("/callers/messages/1/delete", follow_redirects=True))
    assert "Tick the box to confirm" in refused and message.exists()
    admin.post("/callers/messages/1/delete", {"confirm": "yes"})
    assert not message.exists()
    assert admin.get("/callers/messages/1.wav").status_code == 404
    unknown = text(admin.post("/callers/worklist/done", {"number": "0309999999"}, follow_redirects=True))
    assert "no open worklist entry" in unknown
