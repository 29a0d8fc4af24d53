"""Headset stations' audio as the bridge sees it: what the operator says (tx), what they hear (rx).

`SimulatedStation` is the simulation implementation: its 'voice' is a looping prompt and its ear a
WAV recorder, so tests can check what an operator would have heard. The real headset (ALSA through
pjsua2's ExtraAudioDevice) implements the same four members.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pjsua2 as pj


class StationAudio(Protocol):
    tx: object | None
    rx: object | None

    def ring(self) -> None: ...
    def connect(self) -> None: ...
    def close(self) -> None: ...


class SimulatedStation:
    def __init__(self, station: str, leg: str, voice_file: str | None, record_dir: Path):
        self.station, self.leg, self.voice_file = station, leg, voice_file
        self.record_path = Path(record_dir) / station / f"{leg.replace('#', '-')}.wav"
        self.tx = self.rx = None
        self.ringing = False

    def ring(self) -> None:
        self.ringing = True

    def connect(self) -> None:
        self.ringing = False
        if self.rx is not None:  # already off hook (a callback's whisper came first)
            return
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        self.rx = pj.AudioMediaRecorder()
        self.rx.createRecorder(str(self.record_path))
        if self.voice_file:
            self.tx = pj.AudioMediaPlayer()
            self.tx.createPlayer(self.voice_file, 0)

    def close(self) -> None:
        self.ringing = False
        self.tx = self.rx = None  # destroying the recorder writes its WAV header
