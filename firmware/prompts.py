"""Prompts as 8 kHz 16-bit mono WAV files, made when a configuration is saved (never on the engine loop).

Text is spoken by espeak-ng, files are converted by sox, tones are synthesised. Results are cached in
`<data>/prompts/` under a hash of what made them, so unchanged prompts are not made again and a
changed text makes a new file.
"""

from __future__ import annotations

import array
import hashlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path
from typing import Iterable

from firmware.settings import Prompt, Settings

RATE = 8000
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SYSTEM_TEXT = {
    "sys-position": "You are caller number",
    "sys-wait": "Your estimated wait is about",
    "sys-minute": "minute.",
    "sys-minutes": "minutes.",
    **{f"sys-n{n}": str(n) for n in range(1, 21)},
    **{f"sys-d{d}": word for d, word in enumerate(DIGIT_WORDS)},
    "sys-callback-offer": "To be called back without losing your place in the queue, press 1.",
    "sys-callback-confirm": "We will call you back at",
    "sys-callback-keys": "To confirm, press 1. To key in another number, press 2.",
    "sys-callback-enter": "Please key in the number we should call you back on, then press the hash key.",
    "sys-callback-refused": "Sorry, we cannot call that number.",
    "sys-callback-done": "Thank you. You keep your place in the queue, and we will call you back. Goodbye.",
    "sys-callback-whisper": "Queue callback to",
    "sys-vm-greeting": "Nobody can take your call right now. Please leave a message after the tone, "
                       "and press the hash key when you are done.",
    "sys-vm-saved": "Thank you. Your message has been saved. Goodbye.",
}
SYSTEM = {**{name: Prompt(text=text) for name, text in SYSTEM_TEXT.items()},
          "sys-beep": Prompt(tone_hz=1000, seconds=0.4)}
"""Prompts the engine itself uses (announcements, callback, voicemail); a configured prompt of the
same name replaces one (another language, a recorded voice)."""


def spoken_digits(number: str) -> list[str]:
    """'555 1234' -> the system prompts that say each digit."""
    return [f"sys-d{c}" for c in number if c.isdigit()]


class PromptError(RuntimeError):
    pass


def folder(data_dir: Path) -> Path:
    path = Path(data_dir) / "prompts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def render_all(settings: Settings, data_dir: Path) -> dict[str, str]:
    """Make (or find in the cache) every prompt's WAV; returns prompt name -> file path."""
    return {name: str(render(p, data_dir)) for name, p in {**SYSTEM, **settings.prompts}.items()}


def cached(settings: Settings, data_dir: Path) -> dict[str, str]:
    """Prompt name -> file for the prompts already made (what the engine loop may use)."""
    files = {name: str(_target(p, data_dir)) for name, p in {**SYSTEM, **settings.prompts}.items()}
    return {name: path for name, path in files.items() if Path(path).exists()}


def render(prompt: Prompt, data_dir: Path) -> Path:
    target = _target(prompt, data_dir)
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        made = Path(tmp) / "made.wav"
        if prompt.text is not None:
            raw = Path(tmp) / "speech.wav"
            _run(["espeak-ng", "-v", prompt.voice, "-w", str(raw), prompt.text], "espeak-ng")
            _convert(raw, made)
        elif prompt.tone_hz is not None:
            write_wav(made, tone(prompt.tone_hz, prompt.seconds))
        elif prompt.file == "builtin:music":
            write_wav(made, music())
        else:
            source = Path(prompt.file)
            if not source.exists():
                raise PromptError(f"prompt file {source} does not exist")
            _convert(source, made)
        # Copied next to the target first: os.replace is atomic only within one filesystem, and the
        # temporary folder (often a tmpfs) is rarely on the data directory's.
        staged = target.with_suffix(".part")
        shutil.copyfile(made, staged)
        os.replace(staged, target)  # atomic: the engine never sees half a file
    return target


def _target(prompt: Prompt, data_dir: Path) -> Path:
    if prompt.file and prompt.file != "builtin:music":
        source = Path(prompt.file)
        stamp = f"{source.resolve()}:{source.stat().st_mtime_ns}:{source.stat().st_size}" if source.exists() else ""
    else:
        stamp = ""
    key = hashlib.sha256(f"{prompt.model_dump_json()}|{stamp}".encode()).hexdigest()[:16]
    return folder(data_dir) / f"{key}.wav"


def _convert(source: Path, target: Path) -> None:
    _run(["sox", str(source), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", str(target)],
         "sox")


def _run(argv: list[str], tool: str) -> None:
    if shutil.which(argv[0]) is None:
        raise PromptError(f"{tool} is not installed (Debian package {tool}); it is needed to make prompts")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise PromptError(f"{tool} failed: {result.stderr.strip() or result.returncode}")


# Tones, music and the ring tone are synthesised in plain Python, not numpy: an engine makes them at its
# first start (the ring tone) and on a configuration change, and numpy would then stay loaded for good
# (about 10 MB of RSS against issue 9's 80 MB, and its import time on the Pi). Made once, then cached.
def tone(hz: float, seconds: float, amplitude: float = 0.3) -> list[float]:
    return [amplitude * math.sin(2 * math.pi * hz * (i / RATE)) for i in range(int(RATE * seconds))]


def music(seconds: float = 8.0) -> list[float]:
    """A calm arpeggio loop for music on hold (no licence needed for what we make ourselves)."""
    notes = [261.63, 329.63, 392.00, 523.25, 392.00, 329.63, 293.66, 349.23]
    beat = seconds / len(notes)
    times = [i / RATE for i in range(int(RATE * beat))]
    return [0.25 * math.exp(-3.0 * t / beat) * (math.sin(2 * math.pi * f * t) + 0.3 * math.sin(4 * math.pi * f * t))
            for f in notes for t in times]


def write_wav(path: Path, samples: Iterable[float]) -> None:
    """Samples in [-1, 1] (beyond: clipped) as 16-bit PCM, truncated toward zero."""
    pcm = array.array("h", (int(min(1.0, max(-1.0, x)) * 32767) for x in samples))
    if sys.byteorder == "big":
        pcm.byteswap()  # WAV is little-endian
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
