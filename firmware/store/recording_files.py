"""The files of one call's recording. The call record names the WAV; the encoder
(firmware/encoder.py) replaces it by `<id>.webm` once that is verified, and leaves `<id>.webm.part`
while it works and `<id>.encode-failed` when it gave up. Deleting a recording (the web admin, the
CLI, retention) deletes all of them, so an encoded recording is never left behind."""

from __future__ import annotations

from pathlib import Path

AUDIO_SUFFIXES = (".wav", ".webm")
OTHER_SUFFIXES = (".webm.part", ".encode-failed")
MIME = {".wav": "audio/wav", ".webm": "audio/webm"}


def _variants(recording: str | Path) -> list[Path]:
    wav = Path(recording)
    stem = wav.with_suffix("")
    return [stem.with_name(stem.name + suffix) for suffix in AUDIO_SUFFIXES + OTHER_SUFFIXES]


def current(recording: str | Path) -> Path | None:
    """The audio file the recording is in now: the WAV until it is encoded, then the WebM."""
    for path in _variants(recording)[:len(AUDIO_SUFFIXES)]:
        if path.is_file():
            return path
    return None


def delete(recording: str | Path) -> int | None:
    """Delete every file of the recording; the bytes of audio deleted, or None if there was none."""
    audio = None
    for path in _variants(recording):
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        if path.name.endswith(AUDIO_SUFFIXES):
            audio = (audio or 0) + size
    return audio
