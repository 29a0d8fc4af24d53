"""Headset hot-plug by polling: every interval the sound cards are scanned and each station's
headset is looked up by identity; changes are reported once. Polling /proc and /sys costs a few
file reads a second, needs no udev rules or privileges, and works the same on a fake tree."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Callable

from drivers.audio.discovery import SoundCard, find, scan

log = logging.getLogger(__name__)
UNKNOWN = object()  # a station not scanned yet: its first scan is always reported


@dataclass(frozen=True)
class HeadsetPresence:
    """A station's headset appeared (card set) or went away (card None)."""

    station: str
    card: SoundCard | None
    detail: str = ""

    @property
    def present(self) -> bool:
        return self.card is not None


def presence_changes(cards: list[SoundCard], wanted: dict[str, str | None],
                     known: dict[str, SoundCard | None]) -> list[HeadsetPresence]:
    """What changed for each station (station -> configured identity, None: none configured) since
    `known` (station -> card it had, None: absent; missing: never scanned, so reported). A card moving to another index counts as a
    change (unplugged and plugged back between two scans)."""
    changes = []
    for station, identity in wanted.items():
        card = find(cards, identity) if identity else None
        before = known.get(station, UNKNOWN)
        if card == before:
            continue
        if card is None:
            detail = "no headset configured" if not identity else f"headset {identity!r} not found"
        else:
            detail = card.describe()
        if card is not None and isinstance(before, SoundCard):  # replugged elsewhere: gone, then back
            changes.append(HeadsetPresence(station, None, f"{before.describe()} changed"))
        changes.append(HeadsetPresence(station, card, detail))
    return changes


class HeadsetWatcher:
    """Scans `root` every `interval_s` on its own thread and calls `on_change(HeadsetPresence)`.

    The first scan reports every station (present or not); later scans only changes. The callback runs on the watcher thread: it must only
    hand the change on (e.g. post it to the engine loop)."""

    def __init__(self, wanted: dict[str, str | None], on_change: Callable[[HeadsetPresence], None],
                 root: str | os.PathLike = "/", interval_s: float = 1.0):
        self.wanted, self.on_change, self.root, self.interval_s = dict(wanted), on_change, root, interval_s
        self.known: dict[str, SoundCard | None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> list[HeadsetPresence]:
        changes = presence_changes(scan(self.root), self.wanted, self.known)
        for change in changes:
            self.known[change.station] = change.card
            self.on_change(change)
        return changes

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="headsets", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # a half-written sysfs entry while a card goes: try again next time
                log.exception("headset scan failed")
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
