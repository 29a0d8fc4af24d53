"""Headset stations' audio as the bridge sees it: what the operator says (tx), what they hear (rx).

A `StationAudio` lives for one leg: `ring()` plays the ring tone into the headset, `connect()` stops
it when the call is answered, `close()` when the leg ends (cancelled or hung up).

`SimulatedStation` is the simulation implementation: its 'voice' is a looping prompt and its ear a
WAV recorder (from the first ring), so tests can check what an operator heard. `HeadsetStation`
(firmware/telephony/headsets.py) is the real one: a USB headset through pjsua2's ExtraAudioDevice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pjsua2 as pj

from firmware import prompts

RING_HZ = 1200.0
"""The headset ring tone's pitch (apart from every tone the tests use for prompts and voices)."""
RING_CADENCE_S = ((0.4, True), (0.2, False), (0.4, True), (1.0, False))
"""Two short bursts, then a pause: one cycle of the ring tone, looped while the station rings."""


def ring_tone(folder: Path) -> str:
    """The ring tone as an 8 kHz WAV in `folder` (made once)."""
    path = Path(folder) / f"ring-{RING_HZ:g}.wav"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        samples = [x for s, on in RING_CADENCE_S
                   for x in (prompts.tone(RING_HZ, s, 0.25) if on else [0.0] * int(prompts.RATE * s))]
        tmp = path.with_suffix(".tmp")
        prompts.write_wav(tmp, samples)
        tmp.replace(path)
    return str(path)


class StationAudio(Protocol):
    tx: object | None
    rx: object | None

    def ring(self) -> None: ...
    def connect(self) -> None: ...
    def close(self) -> None: ...


class Ringer:
    """A looping ring tone played into one station's ear while it rings."""

    def __init__(self, ring_file: str | None):
        self.ring_file = ring_file
        self.player = None

    def start(self, ear) -> None:
        if self.ring_file and ear is not None and self.player is None:
            self.player = pj.AudioMediaPlayer()
            self.player.createPlayer(self.ring_file, 0)
            self.player.startTransmit(ear)

    def stop(self, ear) -> None:
        player, self.player = self.player, None
        if player is not None and ear is not None:
            try:
                player.stopTransmit(ear)
            except pj.Error:
                pass  # the ear is already gone


class SimulatedStation:
    def __init__(self, station: str, leg: str, voice_file: str | None, record_dir: Path,
                 ring_file: str | None = None):
        self.station, self.leg, self.voice_file = station, leg, voice_file
        self.record_path = Path(record_dir) / station / f"{leg.replace('#', '-')}.wav"
        self.tx = self.rx = None
        self.ringing = False
        self.ringer = Ringer(ring_file)

    def _ear(self) -> None:
        if self.rx is None:
            self.record_path.parent.mkdir(parents=True, exist_ok=True)
            self.rx = pj.AudioMediaRecorder()
            self.rx.createRecorder(str(self.record_path))

    def ring(self) -> None:
        self.ringing = True
        self._ear()  # the recording starts with the ring: tests hear what the operator heard
        self.ringer.start(self.rx)

    def connect(self) -> None:
        self.ringing = False
        self.ringer.stop(self.rx)
        self._ear()
        if self.voice_file:
            self.tx = pj.AudioMediaPlayer()
            self.tx.createPlayer(self.voice_file, 0)

    def close(self) -> None:
        self.ringing = False
        self.ringer.stop(self.rx)
        self.tx = self.rx = None  # destroying the recorder writes its WAV header
