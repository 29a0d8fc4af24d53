"""The simulated exchange's side of `switchboard sim ring`: the caller's WAV, and refused input."""

import wave

import numpy as np
import pytest

from firmware.sim.exchange import read_caller_audio
from firmware.simulation import Simulation


def write_wav(path, samples, rate, channels=1, width=2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels), w.setsampwidth(width), w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return str(path)


def dominant_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.fft.rfftfreq(len(samples), 1 / 8000)[np.abs(np.fft.rfft(samples)).argmax()])


@pytest.mark.parametrize("rate, channels, width", [(8000, 1, 2), (16000, 2, 2), (44100, 1, 2), (22050, 1, 1)])
def test_any_pcm_wav_becomes_8_khz_mono(tmp_path, rate, channels, width):
    t = np.arange(rate) / rate  # one second of 700 Hz
    wave_ = np.sin(2 * np.pi * 700 * t) * 0.5
    if width == 2:
        samples = (wave_ * 32767).astype("<i2")
    else:
        samples = (wave_ * 127 + 128).astype(np.uint8)
    samples = np.repeat(samples, channels)
    pcm = read_caller_audio(write_wav(tmp_path / "caller.wav", samples, rate, channels, width))
    assert abs(len(pcm) // 2 - 8000) <= 1 and abs(dominant_hz(pcm) - 700) <= 2


def test_a_missing_or_foreign_file_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_caller_audio(str(tmp_path / "none.wav"))
    (tmp_path / "text.wav").write_text("hello")
    with pytest.raises(ValueError, match="not a PCM WAV file"):
        read_caller_audio(str(tmp_path / "text.wav"))
    empty = write_wav(tmp_path / "empty.wav", np.zeros(0, dtype="<i2"), 8000)
    with pytest.raises(ValueError, match="no audio"):
        read_caller_audio(empty)


def test_ring_refuses_bad_digits_and_unknown_lines(tmp_path):
    simulation = Simulation(None, None, tmp_path)
    simulation.modem("analog")
    try:
        with pytest.raises(ValueError, match="only 0-9"):
            simulation.ring("analog", "5551234", digits="1x")
        with pytest.raises(KeyError, match="no simulated modem line named 'other'"):
            simulation.line("other", "ring")
        with pytest.raises(ValueError, match="unknown line action 'wave'"):
            simulation.line("analog", "wave")
        assert simulation.ring("analog", "5551234", digits="1") == "analog: ringing, caller ID 5551234, digits 1"
    finally:
        simulation.close()
