"""USB headsets: found by stable identity (ALSA card id, USB port path), watched for unplug and
replug, and validated before pjsua2 opens them (an invalid device index aborts the process)."""

from drivers.audio.devices import DeviceNotFound, pick_device
from drivers.audio.discovery import SoundCard, find, parse_cards, scan
from drivers.audio.watcher import HeadsetPresence, HeadsetWatcher, presence_changes

__all__ = ["DeviceNotFound", "HeadsetPresence", "HeadsetWatcher", "SoundCard", "find", "parse_cards",
           "pick_device", "presence_changes", "scan"]
