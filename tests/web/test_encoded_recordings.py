"""Recordings the encoder (firmware/encoder.py, real ffmpeg) turned into Opus in WebM: the player
serves the WebM (audio/webm, Range requests), deleting from the web admin and retention remove every
file of the recording (WAV, WebM, the encoder's failure note), and a deletion during an encode does
not bring the recording back."""

from __future__ import annotations

import math
import os
import struct
import time
import wave

import pytest

from firmware import encoder
from firmware.store import db as dbmod, queries
from tests.e2e.conftest import Engine, free_port


def tone_wav(path, seconds: float = 2.0) -> None:
    """8 kHz 16-bit mono, a 440 Hz tone: what the engine records, and what the encoder accepts."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                               for i in range(int(8000 * seconds))))


@pytest.fixture
def encoded(data_dir):
    """c1's recording, encoded: only c1.webm is left, as after the encoder's run."""
    wav = data_dir / "recordings" / "c1.wav"
    tone_wav(wav)
    result = encoder.encode(wav)
    assert result.ok, result.detail
    assert not wav.exists() and result.webm.exists()
    return result.webm


def test_the_player_serves_the_webm_with_its_type_and_ranges(admin, encoded):
    page = admin.get("/calls/c1").get_data(as_text=True)
    assert 'src="/recordings/c1/audio"' in page and "Opus" in page
    whole = admin.get("/recordings/c1/audio")
    assert whole.status_code == 200 and whole.mimetype == "audio/webm"
    assert whole.data == encoded.read_bytes() and whole.headers["Accept-Ranges"] == "bytes"
    part = admin.get("/recordings/c1/audio", headers={"Range": "bytes=10-109"})
    assert part.status_code == 206 and part.data == encoded.read_bytes()[10:110]
    download = admin.get("/recordings/c1/download")
    assert download.mimetype == "audio/webm" and "call-c1.webm" in download.headers["Content-Disposition"]
    listing = admin.get("/recordings").get_data(as_text=True)
    assert "/recordings/c1/audio" in listing
    assert "1 file" in admin.get("/system").get_data(as_text=True)


@pytest.fixture
def engine(data_dir):
    engine = Engine(data_dir, free_port()).start()
    yield engine
    code = engine.stop()
    assert "Traceback" not in engine.log() and code == 0, engine.log()[-3000:]


def test_deleting_an_encoded_recording_removes_every_file(engine, admin, data_dir, encoded):
    # The moment between the encode and the WAV's removal, plus an old failure note: all must go.
    wav = data_dir / "recordings" / "c1.wav"
    tone_wav(wav)
    failed = wav.with_suffix(encoder.FAILED_SUFFIX)
    failed.write_text("an earlier attempt failed\n")
    response = admin.post("/recordings/c1/delete", follow_redirects=True)
    assert "recording of call c1 deleted" in response.get_data(as_text=True)
    assert not wav.exists() and not encoded.exists() and not failed.exists()
    assert sorted(p.name for p in (data_dir / "recordings").iterdir()) == []
    db = dbmod.open_read(data_dir)
    assert queries.call(db, "c1")["recording"] is None
    assert admin.get("/recordings/c1/audio").status_code == 404


def test_retention_deletes_encoded_recordings_by_age(engine, admin, data_dir, encoded):
    ten_days_ago = time.time() - 10 * 86400
    os.utime(encoded, (ten_days_ago, ten_days_ago))
    page = admin.get("/config/recording").get_data(as_text=True)
    base = page.split('name="base_id" value="')[1].split('"')[0]
    response = admin.post("/config/recording", {"keep_days": "7", "disclosure_prompt": "disclosure", "base_id": base},
                          follow_redirects=True)
    assert "Saved and applied" in response.get_data(as_text=True)
    page = admin.post("/recordings/retention", follow_redirects=True).get_data(as_text=True)
    assert "Retention applied: 1 recording deleted" in page and not encoded.exists()
    log = page.split('id="deletion-log"')[1]
    assert "deleted the recording of call c1 (c1.webm," in log
    assert queries.call(dbmod.open_read(data_dir), "c1")["recording"] is None


def test_a_recording_deleted_while_it_is_encoded_does_not_come_back(data_dir, monkeypatch):
    wav = data_dir / "recordings" / "c1.wav"
    tone_wav(wav)
    real = encoder.decoded_seconds

    def decode_then_delete(path, *args, **kwargs):  # the web admin's delete lands during the encode
        seconds = real(path, *args, **kwargs)
        wav.unlink()
        return seconds

    monkeypatch.setattr(encoder, "decoded_seconds", decode_then_delete)
    result = encoder.encode(wav)
    assert not result.ok and result.detail == "deleted while it was encoded"
    assert sorted(p.name for p in (data_dir / "recordings").iterdir()) == []
