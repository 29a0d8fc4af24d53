"""The headset side of the telephony adapter: presence becomes engine events, devices are opened only
after validation and closed when their last leg lets go. pjsua2's sound-device API is faked (the PyPI
wheel has no sound devices); the real one runs in tests/contract/test_headset_contract.py."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from drivers.audio import HeadsetPresence, SoundCard
from firmware import events as ev
from firmware.engine.ports import DialFailed
from firmware.telephony.headsets import AlsaHeadsets, SimulatedHeadsets

CARD = SoundCard(1, "Headset", "USB-Audio", "Jabra EVOLVE 20 MS", usb_port="1-1.3", playback=True, capture=True)


@dataclass
class DevInfo:
    name: str
    inputCount: int
    outputCount: int


class FakePj:
    class Error(Exception):
        reason = "fake pjsua2 error"

    def __init__(self, devices):
        self.devices = devices
        self.opened: list["FakePj.Device"] = []
        pj = self

        class Device:
            def __init__(self, play, rec):
                if not (0 <= play < len(pj.devices)):  # what aborts the real process
                    raise AssertionError(f"ExtraAudioDevice with invalid index {play}")
                self.index, self.open_ = play, False

            def open(self):
                self.open_ = True
                pj.opened.append(self)

            def close(self):
                self.open_ = False

        self.ExtraAudioDevice = Device


class FakeEndpoint:
    def __init__(self, pj):
        self.pj, self.refreshed = pj, 0

    def audDevManager(self):
        return self

    def refreshDevs(self):
        self.refreshed += 1

    def enumDev2(self):
        return [DevInfo(*d) for d in self.pj.devices]


def alsa(devices):
    pj = FakePj(devices)
    endpoint = FakeEndpoint(pj)
    return AlsaHeadsets(pj, lambda: endpoint, ring_file=None), pj, endpoint


def test_a_present_headset_is_opened_on_its_validated_device():
    headsets, pj, endpoint = alsa([("default", 1, 1), ("plughw:CARD=Headset,DEV=0", 1, 1)])
    assert headsets.update(HeadsetPresence("st1", CARD, "card 1")) == [ev.HeadsetChanged("st1", True, "card 1")]
    assert [d.index for d in pj.opened] == [1] and endpoint.refreshed == 2
    station = headsets("st1", "st1#1", None)
    assert station.tx is station.rx is pj.opened[0]


def test_no_sound_devices_in_the_build_makes_the_station_unavailable_not_an_abort():
    headsets, pj, _ = alsa([])
    events = headsets.update(HeadsetPresence("st1", CARD))
    assert len(events) == 1 and not events[0].present
    assert "PyPI wheel is built without sound" in events[0].detail and not pj.opened
    with pytest.raises(DialFailed, match="no headset plugged in"):
        headsets("st1", "st1#1", None)


def test_unplugged_during_a_call_the_device_closes_when_the_leg_lets_go():
    headsets, pj, _ = alsa([("plughw:CARD=Headset,DEV=0", 1, 1)])
    headsets.update(HeadsetPresence("st1", CARD))
    device = pj.opened[0]
    station = headsets("st1", "st1#1", None)
    assert headsets.update(HeadsetPresence("st1", None, "gone")) == [ev.HeadsetChanged("st1", False, "gone")]
    assert device.open_, "closed under a leg still bridged to it"
    station.close()
    assert not device.open_
    headsets.update(HeadsetPresence("st1", CARD))  # plugged back: a fresh device
    idle = pj.opened[-1]
    headsets.update(HeadsetPresence("st1", None))
    assert not idle.open_  # no leg on it: closed at once


def test_close_closes_every_device():
    headsets, pj, _ = alsa([("plughw:CARD=Headset,DEV=0", 1, 1)])
    headsets.update(HeadsetPresence("st1", CARD))
    headsets.close()
    assert not pj.opened[0].open_


def test_simulated_headsets_follow_presence(tmp_path):
    headsets = SimulatedHeadsets(tmp_path, None)
    assert headsets.update(HeadsetPresence("st1", None, "x")) == [ev.HeadsetChanged("st1", False, "x")]
    with pytest.raises(DialFailed, match="unplugged"):
        headsets("st1", "st1#1", None)
    headsets.update(HeadsetPresence("st1", CARD))
    assert headsets("st1", "st1#2", None).record_path == tmp_path / "st1" / "st1-2.wav"
