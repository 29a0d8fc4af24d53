"""Simulated USB headsets: a /proc/asound and /sys/class/sound tree under a folder, laid out as the
kernel does, with cards that can be plugged in and out. The real discovery code reads it, so the
simulation and the tests go through the same path as the box."""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

PCI_HOST = "0000:01:00.0"  # the Pi 4's VL805 USB controller


@dataclass(frozen=True)
class FakeCard:
    id: str
    usb_port: str
    name: str = "USB Headset"
    playback: bool = True
    capture: bool = True


class FakeSoundTree:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.cards: dict[int, FakeCard] = {}
        self._lock = threading.Lock()
        self._write()

    def plug(self, card: FakeCard) -> int:
        """Plug a card in; it gets the lowest free index, as ALSA gives it. Returns the index."""
        with self._lock:
            if any(c.id == card.id for c in self.cards.values()):
                raise ValueError(f"a card with id {card.id!r} is already plugged in")
            index = next(i for i in range(32) if i not in self.cards)
            self.cards[index] = card
            self._write_card(index, card)
            self._write()
            return index

    def unplug(self, card_id: str) -> FakeCard:
        with self._lock:
            index = next((i for i, c in self.cards.items() if c.id == card_id), None)
            if index is None:
                raise KeyError(f"no card {card_id!r} is plugged in")
            card = self.cards.pop(index)
            self._write()  # gone from the list first, as the kernel does
            (self.root / f"sys/class/sound/card{index}").unlink(missing_ok=True)
            shutil.rmtree(self._device_dir(card), ignore_errors=True)
            shutil.rmtree(self.root / f"proc/asound/card{index}", ignore_errors=True)
            return card

    def plugged(self, card_id: str) -> bool:
        return any(c.id == card_id for c in self.cards.values())

    def _device_dir(self, card: FakeCard) -> Path:
        parts = card.usb_port.split("-", 1)
        chain, port = [], parts[0] + "-"
        for i, step in enumerate(parts[1].split(".")):
            port += ("." if i else "") + step
            chain.append(port)
        return self.root / "sys/devices/platform/pcie" / PCI_HOST / f"usb{parts[0]}" / Path(*chain) / f"{chain[-1]}:1.0"

    def _write_card(self, index: int, card: FakeCard) -> None:
        proc = self.root / f"proc/asound/card{index}"
        proc.mkdir(parents=True, exist_ok=True)
        (proc / "id").write_text(card.id + "\n")
        if card.playback:
            (proc / "pcm0p").mkdir(exist_ok=True)
        if card.capture:
            (proc / "pcm0c").mkdir(exist_ok=True)
        device = self._device_dir(card) / "sound" / f"card{index}"
        device.mkdir(parents=True, exist_ok=True)
        (device / "id").write_text(card.id + "\n")
        (device / "number").write_text(f"{index}\n")
        link = self.root / f"sys/class/sound/card{index}"
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(device, link.parent))  # relative, as sysfs links are

    def _write(self) -> None:
        lines = []
        for index, card in sorted(self.cards.items()):
            lines.append(f"{index:2d} [{card.id:<15}]: USB-Audio - {card.name}")
            lines.append(f"{'':22}Simulated {card.name} at usb-{PCI_HOST}-{card.usb_port.split('-', 1)[1]},"
                         " full speed")
        cards = self.root / "proc/asound/cards"
        cards.parent.mkdir(parents=True, exist_ok=True)
        tmp = cards.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n" if lines else "--- no soundcards ---\n")
        tmp.replace(cards)
