"""Prompts are made once when saved, cached by what made them, and remade when that changes."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from firmware import prompts
from firmware.settings import Prompt, from_dict
from firmware.sim.analysis import has_tone, read_wav, segments


def wav_info(path):
    with wave.open(str(path)) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


def test_text_is_spoken_at_8khz_cached_and_remade_when_changed(tmp_path):
    first = prompts.render(Prompt(text="Thank you for calling."), tmp_path)
    rate, channels, width, frames = wav_info(first)
    assert (rate, channels, width) == (8000, 1, 2) and frames > 4000
    assert any(s.kind == "sound" for s in segments(*reversed(read_wav(first))))
    stamp = first.stat().st_mtime_ns
    again = prompts.render(Prompt(text="Thank you for calling."), tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp  # cached, not made again
    changed = prompts.render(Prompt(text="Thank you for calling us."), tmp_path)
    assert changed != first and changed.exists()


def test_a_wav_file_is_converted_and_a_tone_synthesised(tmp_path):
    source = tmp_path / "hello.wav"
    t = np.arange(44100) / 44100
    stereo = (np.stack([np.sin(2 * np.pi * 700 * t)] * 2, axis=1) * 0.3 * 32767).astype("<i2")
    with wave.open(str(source), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes(stereo.tobytes())
    made = prompts.render(Prompt(file=str(source)), tmp_path / "data")
    assert wav_info(made)[:3] == (8000, 1, 2)
    assert has_tone(made, 700, min_s=0.8)
    tone = prompts.render(Prompt(tone_hz=900, seconds=0.5), tmp_path / "data")
    assert wav_info(tone)[3] == 4000 and has_tone(tone, 900, min_s=0.4)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(prompts.PromptError, match="does not exist"):
        prompts.render(Prompt(file=str(tmp_path / "nope.wav")), tmp_path)


def test_render_all_includes_the_system_prompts_and_cached_finds_them(tmp_path):
    settings = from_dict({"prompts": {"beep": {"tone_hz": 1000}}})
    files = prompts.render_all(settings, tmp_path)
    assert set(files) >= {"beep", "sys-position", "sys-n1", "sys-n20", "sys-minutes"}
    assert prompts.cached(settings, tmp_path) == files
