"""Sound cards as the kernel lists them (/proc/asound and /sys/class/sound), never by index alone:
a card's index changes with the order devices appear at boot, its id and USB port do not.

`scan(root)` reads the two trees under `root` ("/" on the box; a fake tree in tests and simulation);
everything else here is pure.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

CARD_LINE = re.compile(r"^\s*(\d+)\s+\[([^\]]+?)\s*\]:\s+(\S+)\s+-\s+(.*?)\s*$")
USB_BUS_PATH = re.compile(r"\bat (usb-[^\s,]+)")
USB_PORT = re.compile(r"^\d+-\d+(?:\.\d+)*$")  # a USB device in sysfs: bus-port[.port...]


@dataclass(frozen=True)
class SoundCard:
    """One ALSA card. `index` is where it is today; `id`, `usb_port` and `usb_bus_path` say which it is."""

    index: int
    id: str
    """ALSA card id, e.g. "Headset" (set by the driver from the device's name; udev can pin it)."""
    driver: str
    name: str
    long_name: str = ""
    usb_port: str | None = None
    """USB port path in sysfs, e.g. "1-1.3": the physical socket, stable across boots."""
    usb_bus_path: str | None = None
    """USB-Audio's own bus path from the long name, e.g. "usb-0000:01:00.0-1.3"."""
    playback: bool = False
    capture: bool = False

    @property
    def is_usb(self) -> bool:
        return self.usb_port is not None or self.driver == "USB-Audio"

    @property
    def is_headset(self) -> bool:
        """A USB card that can both play and record: what a station needs."""
        return self.is_usb and self.playback and self.capture

    def matches(self, identity: str) -> bool:
        """A station's configured headset: the card id, its USB port path or bus path, or its name."""
        return identity in (self.id, self.usb_port, self.usb_bus_path, self.name)

    def describe(self) -> str:
        where = f" at USB {self.usb_port}" if self.usb_port else ""
        return f"card {self.index} [{self.id}] {self.name}{where}"


def parse_cards(text: str) -> list[SoundCard]:
    """/proc/asound/cards: a line per card (index, [id], driver - name), then its long name."""
    cards: list[SoundCard] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = CARD_LINE.match(line)
        if not match:
            continue
        long_name = lines[i + 1].strip() if i + 1 < len(lines) and not CARD_LINE.match(lines[i + 1]) else ""
        bus = USB_BUS_PATH.search(long_name)
        cards.append(SoundCard(int(match.group(1)), match.group(2).strip(), match.group(3), match.group(4),
                               long_name, usb_bus_path=bus.group(1) if bus else None))
    return cards


def usb_port_of(sysfs_path: str) -> str | None:
    """The USB device (bus-port path) a sound card's resolved sysfs path runs through, if any."""
    ports = [part for part in Path(sysfs_path).parts if USB_PORT.match(part)]
    return ports[-1] if ports else None


def scan(root: str | os.PathLike = "/") -> list[SoundCard]:
    """Every sound card now present, with its USB port and whether it plays and records."""
    root = Path(root)
    try:
        text = (root / "proc/asound/cards").read_text()
    except OSError:
        return []  # no ALSA at all (no sound support in the kernel)
    cards = []
    for card in parse_cards(text):
        proc = root / f"proc/asound/card{card.index}"
        sysfs = root / f"sys/class/sound/card{card.index}"
        port = usb_port_of(os.path.realpath(sysfs)) if sysfs.exists() else None
        cards.append(SoundCard(card.index, card.id, card.driver, card.name, card.long_name, port,
                               card.usb_bus_path, playback=any(proc.glob("pcm*p")),
                               capture=any(proc.glob("pcm*c"))))
    return cards


def find(cards: list[SoundCard], identity: str) -> SoundCard | None:
    """The headset with this identity; None if it is not plugged in (or is not a headset)."""
    return next((c for c in cards if c.matches(identity) and c.is_headset), None)
