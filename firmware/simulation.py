"""The simulated hardware's far ends, for `switchboard sim ...`: a finger on a station's buttons, and
the telephone exchange behind each simulated modem line (rings, caller ID, a caller's voice and
digits, hanging up by busy tone)."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

from drivers.audio.simulated import FakeCard, FakeSoundTree
from drivers.modem.simulator import SimCallerId, SimulatedModem
from drivers.panel.mock import press_button

FOREVER_S = 10 * 365 * 86400


class Simulation:
    def __init__(self, panel, pin_map, data_dir: Path):
        self.panel, self.pin_map, self.data_dir = panel, pin_map, Path(data_dir)
        self.modems: dict[str, SimulatedModem] = {}
        self.sound_root = self.data_dir / "sim-hardware"
        self.sound: FakeSoundTree | None = None
        self.headset_cards: dict[str, FakeCard] = {}

    def add_headsets(self, stations: list[str]) -> None:
        """A simulated USB headset per station (ALSA card id = the station's name), plugged in."""
        shutil.rmtree(self.sound_root, ignore_errors=True)  # left by an earlier run
        self.sound = FakeSoundTree(self.sound_root)
        for i, station in enumerate(stations):
            self.headset_cards[station] = FakeCard(station, f"1-1.{i + 1}", f"Simulated headset {station}")
            self.sound.plug(self.headset_cards[station])

    def headset(self, station: str, action: str) -> str:
        """unplug / plug a station's simulated USB headset (the watcher notices within a second)."""
        card = self.headset_cards.get(station)
        if card is None or self.sound is None:
            raise KeyError(f"station {station!r} has no simulated headset")
        if action not in ("unplug", "plug"):
            raise ValueError(f"unknown headset action {action!r} (unplug, plug)")
        if (action == "plug") == self.sound.plugged(card.id):
            return f"{station}'s headset is already {'plugged in' if action == 'plug' else 'unplugged'}"
        self.sound.unplug(card.id) if action == "unplug" else self.sound.plug(card)
        return f"{station}'s headset {'unplugged' if action == 'unplug' else 'plugged in'}"

    def modem(self, line: str) -> SimulatedModem:
        """A simulated modem for a line, on a pty; the driver opens `.path` like a real device."""
        sim = SimulatedModem(directory=str(self.data_dir / "modems" / line), lifetime=FOREVER_S)
        (self.data_dir / "modems" / line).mkdir(parents=True, exist_ok=True)
        sim.start()
        self.modems[line] = sim
        return sim

    def press(self, station: str, button: str, long_press: bool = False) -> str:
        if station not in self.pin_map.stations:
            raise KeyError(f"station {station!r} has no panel")
        press_button(self.panel, station, button,
                     seconds=self.pin_map.long_press_s + 0.3 if long_press else 0.1)
        return f"pressed {'and held ' if long_press else ''}{button} on {station}"

    def line(self, line: str, action: str, value: str = "") -> str:
        """ring [caller number], dtmf DIGITS, voice HZ (the caller speaks a tone), busy (the caller
        hangs up: the exchange sends busy tone), unplug / replug (the USB modem), heard FILE (what
        the caller heard, as a WAV)."""
        sim = self.modems.get(line)
        if sim is None:
            raise KeyError(f"no simulated modem line named {line!r}")
        if action == "ring":
            sim.ring(3, SimCallerId(number=value or "5551234"))
        elif action == "dtmf":
            sim.dtmf(value)
        elif action == "voice":
            sim.phone.play_tone(float(value or 600))
        elif action == "busy":
            sim.busy_tone(dle=False, audio=True)
        elif action == "unplug":
            sim.unplug()
        elif action == "replug":
            sim.replug()
        elif action == "heard":
            with wave.open(value, "wb") as w:
                w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
                w.writeframes(sim.phone.heard())
        else:
            raise ValueError(f"unknown line action {action!r} (ring, dtmf, voice, busy, unplug, replug, heard)")
        return f"{line}: {action} {value}".strip()

    def close(self) -> None:
        for sim in self.modems.values():
            sim.close()
