"""The simulated hardware's far ends, for `switchboard sim ...`: a finger on a station's buttons, a
station's USB headset, and the telephone exchange behind each simulated modem line
(firmware/sim/exchange.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.audio.simulated import FakeCard, FakeSoundTree
from drivers.panel.mock import press_button

if TYPE_CHECKING:
    from drivers.modem.simulator import SimulatedModem
    from firmware.sim.exchange import Exchange


class Simulation:
    def __init__(self, panel, pin_map, data_dir: Path):
        self.panel, self.pin_map, self.data_dir = panel, pin_map, Path(data_dir)
        self.exchange: Exchange | None = None  # made with the first modem line (see modem())
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
        """A simulated modem for a line, on a pty; the driver opens `.path` like a real device (the same
        modem again when a reload reopens the line)."""
        if self.exchange is None:
            # Imported here, with the first modem line: the exchange brings the modem simulator and
            # numpy, which a box of SIP lines only never needs (issue 9: RSS; start-up time on the Pi).
            from firmware.sim.exchange import Exchange
            self.exchange = Exchange(self.data_dir)
        return self.exchange.modem(line)

    def press(self, station: str, button: str, long_press: bool = False) -> str:
        if station not in self.pin_map.stations:
            raise KeyError(f"station {station!r} has no panel")
        press_button(self.panel, station, button,
                     seconds=self.pin_map.long_press_s + 0.3 if long_press else 0.1)
        return f"pressed {'and held ' if long_press else ''}{button} on {station}"

    def ring(self, line: str, caller_id: str = "", audio: str = "", digits: str = "",
             digit_delay: float = 4.0) -> str:
        """The exchange places a call on a modem line (firmware/sim/exchange.py: Exchange.ring)."""
        return self._exchange(line).ring(line, caller_id, audio, digits, digit_delay)

    def line(self, line: str, action: str, value: str = "", **options) -> str:
        """Be the caller on a modem line (firmware/sim/exchange.py: Exchange.line)."""
        return self._exchange(line).line(line, action, value, **options)

    def close(self) -> None:
        if self.exchange is not None:
            self.exchange.close()

    def _exchange(self, line: str) -> Exchange:
        if self.exchange is None:
            raise KeyError(f"no simulated modem line named {line!r}")
        return self.exchange
