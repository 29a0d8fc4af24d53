"""Headset stations as the telephony adapter uses them, behind one small interface:

- `__call__(station, leg, voice_file)` -> a `StationAudio` for a leg that is about to ring
  (`DialFailed` when the station's headset is not there);
- `update(presence)` -> engine events, for a headset found or lost by the watcher (on the loop
  thread, so it may open and close pjsua2 devices);
- `close()` before pjsua2 is destroyed.

`SimulatedHeadsets` makes `SimulatedStation`s (a voice prompt and a recorder). `AlsaHeadsets` opens
each present USB headset as a pjsua2 `ExtraAudioDevice`, which needs a pjsua2 built from source
with ALSA (`make pjsua2`); with the PyPI wheel it lists no sound devices, and every station is
reported unavailable with that reason instead of aborting.
"""

from __future__ import annotations

import logging
from pathlib import Path

from drivers.audio import DeviceNotFound, HeadsetPresence, SoundCard, pick_device
from drivers.audio.devices import validated
from firmware import events as ev
from firmware.engine.ports import DialFailed
from firmware.telephony.headset_test import TestMedia
from firmware.telephony.stations import Ringer, SimulatedStation

log = logging.getLogger(__name__)

HEADSET_SOURCE = "headsets"
"""DeviceEvent source of headset presence changes."""


class SimulatedHeadsets:
    def __init__(self, record_dir: Path, ring_file: str | None):
        self.record_dir, self.ring_file = Path(record_dir), ring_file
        self.absent: set[str] = set()

    def __call__(self, station: str, leg: str, voice_file: str | None) -> SimulatedStation:
        if station in self.absent:
            raise DialFailed(f"station {station}'s headset is unplugged")
        return SimulatedStation(station, leg, voice_file, self.record_dir, self.ring_file)

    def test_media(self, station: str, voice_file: str | None) -> TestMedia:
        """The headset test's ends: a recorder is the ear (what the headset played), the station's voice
        prompt is the microphone (none: a silent microphone)."""
        import pjsua2 as pj
        if station in self.absent:
            raise DialFailed(f"station {station}'s headset is unplugged")
        ear_path = self.record_dir / station / "headset-test.wav"
        ear_path.parent.mkdir(parents=True, exist_ok=True)
        ear = pj.AudioMediaRecorder()
        ear.createRecorder(str(ear_path))
        mouth = None
        if voice_file:
            mouth = pj.AudioMediaPlayer()
            mouth.createPlayer(voice_file, 0)
        return TestMedia(ear, mouth, str(ear_path))

    def update(self, presence: HeadsetPresence) -> list:
        (self.absent.discard if presence.present else self.absent.add)(presence.station)
        return [ev.HeadsetChanged(presence.station, presence.present, presence.detail)]

    def close(self) -> None:
        pass


class HeadsetStation:
    """One leg on a real headset: its sound device is both the ear (rx) and the mouth (tx)."""

    def __init__(self, device, ring_file: str | None, on_close=None):
        self.tx = self.rx = device
        self.ringer = Ringer(ring_file)
        self.on_close = on_close

    def ring(self) -> None:
        self.ringer.start(self.rx)

    def connect(self) -> None:
        self.ringer.stop(self.rx)

    def close(self) -> None:
        if self.rx is None:
            return
        self.ringer.stop(self.rx)
        device, self.tx, self.rx = self.rx, None, None
        if self.on_close:
            self.on_close(device)


class AlsaHeadsets:
    def __init__(self, pj, endpoint, ring_file: str | None):
        self.pj, self.ring_file = pj, ring_file
        self.endpoint = endpoint  # () -> the pjsua2 Endpoint (made when the adapter starts)
        self.devices: dict[str, object] = {}   # station -> open ExtraAudioDevice
        self.in_use: dict[int, int] = {}       # id(device) -> legs using it
        self.retired: list = []                # unplugged while a leg still used them

    def __call__(self, station: str, leg: str, voice_file: str | None) -> HeadsetStation:
        device = self.devices.get(station)
        if device is None:
            raise DialFailed(f"station {station} has no headset plugged in")
        self.in_use[id(device)] = self.in_use.get(id(device), 0) + 1
        return HeadsetStation(device, self.ring_file, self._released)

    def test_media(self, station: str, voice_file: str | None) -> TestMedia:
        """The headset test's ends: the headset's sound device is both."""
        device = self.devices.get(station)
        if device is None:
            raise DialFailed(f"station {station} has no headset plugged in")
        self.in_use[id(device)] = self.in_use.get(id(device), 0) + 1
        return TestMedia(device, device, None, lambda: self._released(device))

    def update(self, presence: HeadsetPresence) -> list:
        self._retire(presence.station)
        if not presence.present:
            return [ev.HeadsetChanged(presence.station, False, presence.detail)]
        try:
            self.devices[presence.station] = self._open(presence.card)
        except (DeviceNotFound, self.pj.Error) as exc:
            reason = exc.reason if isinstance(exc, self.pj.Error) else str(exc)
            log.error("station %s: cannot open %s: %s", presence.station, presence.card.describe(), reason)
            return [ev.HeadsetChanged(presence.station, False, f"{presence.card.describe()}: {reason}")]
        log.info("station %s: headset %s open", presence.station, presence.card.describe())
        return [ev.HeadsetChanged(presence.station, True, presence.detail)]

    def _devices(self) -> list[tuple[str, int, int]]:
        manager = self.endpoint().audDevManager()
        manager.refreshDevs()  # open streams are unaffected; a headset plugged in since appears
        return [(d.name, d.inputCount, d.outputCount) for d in manager.enumDev2()]

    def _open(self, card: SoundCard):
        devices = self._devices()
        index = pick_device(devices, card.id)
        if not validated(self._devices(), index, devices[index][0]):  # changed under us: try next scan
            raise DeviceNotFound(f"the sound device list changed while opening {card.id}")
        device = self.pj.ExtraAudioDevice(index, index)
        device.open()
        return device

    def _retire(self, station: str) -> None:
        device = self.devices.pop(station, None)
        if device is None:
            return
        if self.in_use.get(id(device)):
            self.retired.append(device)  # closed when its last leg lets go (see _released)
        else:
            self._close(device)

    def _released(self, device) -> None:
        left = self.in_use.get(id(device), 1) - 1
        self.in_use[id(device)] = left
        if left <= 0 and any(d is device for d in self.retired):
            self.retired = [d for d in self.retired if d is not device]
            self._close(device)

    def _close(self, device) -> None:
        self.in_use.pop(id(device), None)
        try:
            device.close()
        except self.pj.Error as exc:
            log.warning("closing a headset device: %s", exc.reason)

    def close(self) -> None:
        for station in list(self.devices):
            device = self.devices.pop(station)
            self._close(device)
        for device in self.retired:
            self._close(device)
        self.retired = []
