import struct
import wave

import numpy as np
import pytest

from firmware.sim.analysis import (Segment, describe, dropouts, has_tone, read_wav, segments,
                                   tone_seconds)

RATE = 8000


def tone(hz, seconds, amplitude=0.3):
    t = np.arange(int(RATE * seconds)) / RATE
    return amplitude * np.sin(2 * np.pi * hz * t)


def silence(seconds):
    return np.zeros(int(RATE * seconds))


def noise(seconds, amplitude=0.2, seed=1):
    return amplitude * np.random.default_rng(seed).standard_normal(int(RATE * seconds)).clip(-1, 1)


def write_wav(path, samples, rate=RATE, channels=1):
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def test_single_tone_is_one_segment():
    found = segments(tone(440, 3), RATE)
    assert len(found) == 1
    seg = found[0]
    assert seg.kind == "tone" and seg.freq_hz == pytest.approx(440, abs=5)
    assert seg.start_s == 0 and seg.duration == pytest.approx(3, abs=0.06)


def test_tone_silence_tone_gives_two_segments():
    found = segments(np.concatenate([tone(440, 1), silence(1), tone(1300, 2)]), RATE)
    assert [(s.kind, round(s.freq_hz)) for s in found] == [("tone", 440), ("tone", 1300)]
    assert found[1].start_s == pytest.approx(2, abs=0.06)
    assert found[1].end_s == pytest.approx(4, abs=0.06)


def test_noise_is_sound_and_short_bits_are_dropped():
    found = segments(np.concatenate([noise(2), silence(0.5), tone(600, 0.1), silence(0.5)]), RATE)
    assert [s.kind for s in found] == ["sound"]
    assert found[0].freq_hz is None


def test_single_silent_frame_inside_a_tone_is_bridged():
    found = segments(np.concatenate([tone(440, 1), silence(0.05), tone(440, 1)]), RATE)
    assert len(found) == 1 and found[0].duration == pytest.approx(2.05, abs=0.06)


def test_quiet_audio_is_silence():
    assert segments(tone(440, 2, amplitude=0.001), RATE) == []
    assert describe([]) == "(silence)"


def test_two_summed_tones_are_each_present():
    mixed = tone(600, 3, 0.2) + tone(1300, 3, 0.2)
    assert has_tone(mixed, 600, rate=RATE) and has_tone(mixed, 1300, rate=RATE)
    assert not has_tone(mixed, 900, rate=RATE)
    assert tone_seconds(mixed, 600, rate=RATE) == pytest.approx(3, abs=0.06)
    assert [s.kind for s in segments(mixed, RATE)] == ["sound"]


def test_tone_mixed_with_noise_is_present():
    assert has_tone(tone(1000, 2, 0.2) + noise(2, 0.1), 1000, rate=RATE)


def test_has_tone_needs_an_unbroken_min_duration():
    bursts = np.concatenate([tone(440, 0.3), silence(0.3)] * 4)
    assert not has_tone(bursts, 440, min_s=0.5, rate=RATE)
    assert has_tone(bursts, 440, min_s=0.25, rate=RATE)
    assert tone_seconds(bursts, 440, rate=RATE) == pytest.approx(1.2, abs=0.1)


def test_read_wav_and_path_arguments(tmp_path):
    path = write_wav(tmp_path / "t.wav", np.concatenate([tone(440, 1), silence(1), tone(1300, 1)]))
    rate, samples = read_wav(path)
    assert rate == RATE and len(samples) == 3 * RATE
    assert np.max(np.abs(samples)) == pytest.approx(0.3, abs=0.01)
    assert tone_seconds(path, 1300) == pytest.approx(1, abs=0.06)
    assert has_tone(str(path), 440)


def test_read_wav_mixes_stereo_down(tmp_path):
    left, right = tone(440, 1), tone(440, 1)
    stereo = np.column_stack([left, right]).ravel()
    rate, samples = read_wav(write_wav(tmp_path / "s.wav", stereo, channels=2))
    assert rate == RATE and len(samples) == RATE
    assert np.allclose(samples, left, atol=1e-3)


def test_read_wav_with_zeroed_sizes(tmp_path):
    path = write_wav(tmp_path / "killed.wav", tone(440, 2))
    blob = bytearray(path.read_bytes())
    data_at = blob.index(b"data")
    blob[4:8] = struct.pack("<I", 0)
    blob[data_at + 4:data_at + 8] = struct.pack("<I", 0)
    path.write_bytes(bytes(blob))
    rate, samples = read_wav(path)
    assert rate == RATE and len(samples) == 2 * RATE
    assert has_tone(path, 440, min_s=1.5)


def test_read_wav_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav at all")
    with pytest.raises(ValueError):
        read_wav(bad)


def test_dropouts_count_only_gaps_inside_audio():
    frame = int(RATE * 0.02)
    audio = np.concatenate([silence(0.2), tone(440, 1), np.zeros(3 * frame), tone(440, 1),
                            silence(0.5)])
    assert dropouts(audio, rate=RATE) == 3
    assert dropouts(tone(440, 1), rate=RATE) == 0
    assert dropouts(silence(1), rate=RATE) == 0


def test_describe_lines():
    text = describe([Segment("tone", 440.0, 0.0, 3.2), Segment("sound", None, 3.4, 7.0)])
    assert text.splitlines() == ["0.00-3.20 s  tone 440 Hz", "3.40-7.00 s  sound (speech or music)"]
