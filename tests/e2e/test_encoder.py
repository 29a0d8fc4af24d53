"""The recording encoder with the real ffmpeg: finished recordings become Opus in WebM whose decoded
audio still carries the tones, the WAV goes only after that, and a bad result keeps the WAV."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from firmware import encoder
from firmware.sim import analysis
from firmware.store.writer import Writer
from tests.e2e.conftest import ROOT

RATE = 8000


def tones_wav(path: Path, parts: list[tuple[float, float]]) -> float:
    """A recording: (frequency or 0 for silence, seconds) one after another, 8 kHz 16-bit mono."""
    chunks = []
    for hz, seconds in parts:
        t = np.arange(int(RATE * seconds)) / RATE
        chunks.append((0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16) if hz else np.zeros(len(t), np.int16))
    samples = np.concatenate(chunks)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return len(samples) / RATE


def decode(path: Path, out: Path) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(path), "-ar", str(RATE), "-ac", "1", str(out)],
                   check=True, timeout=60)
    return out


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    rec = d / "recordings"
    tones_wav(rec / "c1.wav", [(600, 1.5), (0, 1.0), (1000, 2.0)])
    tones_wav(rec / "c2.wav", [(800, 1.0)])
    writer = Writer(d)
    writer.call_started({"id": "c1", "started_at": "2026-01-01T10:00:00", "ended_at": "2026-01-01T10:01:00",
                         "recording": str(rec / "c1.wav")})
    writer.call_started({"id": "c2", "started_at": "2026-01-01T10:02:00", "recording": str(rec / "c2.wav")})
    writer.flush()
    writer.close()
    return d


def test_a_finished_recording_is_encoded_verified_and_its_wav_removed(data_dir, tmp_path):
    wav = data_dir / "recordings" / "c1.wav"
    wav_size = wav.stat().st_size
    result = subprocess.run([sys.executable, "-m", "firmware.cli", "--data-dir", str(data_dir), "encode", "--once"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "c1.wav: -> c1.webm (4.5 s)" in result.stdout and "c2" not in result.stdout  # c2's call goes on
    webm = data_dir / "recordings" / "c1.webm"
    assert not wav.exists() and webm.exists() and (data_dir / "recordings" / "c2.wav").exists()
    assert webm.read_bytes()[:4] == b"\x1a\x45\xdf\xa3", "an EBML (WebM) file"
    assert webm.stat().st_size < wav_size / 4
    assert encoder.current_file(wav) == webm
    assert list((data_dir / "recordings").glob("*.part")) == []

    heard = decode(webm, tmp_path / "decoded.wav")
    assert analysis.has_tone(str(heard), 600, min_s=1.2) and analysis.has_tone(str(heard), 1000, min_s=1.7)
    assert not analysis.has_tone(str(heard), 800, min_s=0.3)
    assert abs(encoder.decoded_seconds(webm) - 4.5) <= encoder.TOLERANCE_S

    again = subprocess.run([sys.executable, "-m", "firmware.cli", "--data-dir", str(data_dir), "encode", "--once"],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stdout == ""  # nothing left to do


def test_a_result_that_does_not_verify_keeps_the_wav(tmp_path):
    wav = tmp_path / "recordings" / "c9.wav"
    tones_wav(wav, [(600, 3.0)])
    before = wav.read_bytes()

    def short_write(argv, **kw):  # the real ffmpeg, then the file loses its end (a full disk, a power cut)
        result = subprocess.run(argv, **kw)
        out = Path(argv[-1])
        if out.suffix == ".part" and out.exists():
            out.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
        return result

    result = encoder.encode(wav, run=short_write)
    assert not result.ok and wav.read_bytes() == before
    assert not (tmp_path / "recordings" / "c9.webm").exists()
    assert list((tmp_path / "recordings").glob("*.part")) == []
    assert (tmp_path / "recordings" / "c9.encode-failed").read_text().strip() == result.detail


def test_a_damaged_wav_is_left_alone_and_not_retried(tmp_path):
    wav = tmp_path / "recordings" / "c8.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    result = encoder.encode(wav)
    assert not result.ok and wav.exists() and not encoder.webm_for(wav).exists()
    assert (tmp_path / "recordings" / "c8.encode-failed").exists()


@pytest.mark.parametrize("wav_s, decoded_s, ok", [(4.5, 4.5, True), (4.5, 4.52, True), (4.5, 4.3, False),
                                                  (60.0, 59.9, False)])
def test_lengths_match_within_a_few_opus_frames(wav_s, decoded_s, ok):
    assert encoder.lengths_match(wav_s, decoded_s) is ok
