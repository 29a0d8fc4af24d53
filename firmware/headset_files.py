"""Where the headset test keeps its recordings. Apart from the analysis of them (firmware/headset_check.py,
numpy), so that the engine, which only makes the recordings, starts without numpy (issue 9: RSS)."""

from __future__ import annotations

from pathlib import Path

FOLDER = "headset-tests"  # in the data directory: each station's latest microphone recording


def mic_path(folder, station: str) -> Path:
    """Where a station's headset test records its microphone (`folder`: <data>/headset-tests)."""
    return Path(folder) / f"{station}-mic.wav"
