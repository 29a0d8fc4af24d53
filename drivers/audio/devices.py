"""Which pjsua2 sound device is a given card, checked against a fresh device list before opening:
`ExtraAudioDevice.open()` with an index that is not a capture-and-playback device aborts the whole
process (a C++ error Python cannot catch)."""

from __future__ import annotations

# ALSA names pjmedia lists (from the ALSA hints), best first: plughw converts rate and format in ALSA
# so the headset runs at the bridge's 8 kHz whatever it supports natively. Last, a PCM defined by
# that name in asound.conf (with a `hint` section), e.g. a softvol wrapper around the headset.
PREFERRED = ("plughw:CARD={id},DEV=0", "sysdefault:CARD={id}", "hw:CARD={id},DEV=0", "{id}")


class DeviceNotFound(LookupError):
    """No usable sound device for a card in this pjsua2 build's device list."""


def pick_device(devices: list[tuple[str, int, int]], card_id: str) -> int:
    """Index in `devices` ((name, input channels, output channels), as enumDev2() lists them) of the
    card's device that can both record and play."""
    for pattern in PREFERRED:
        wanted = pattern.format(id=card_id)
        for index, (name, inputs, outputs) in enumerate(devices):
            if name == wanted and inputs > 0 and outputs > 0:
                return index
    if not devices:
        raise DeviceNotFound("this pjsua2 build lists no sound devices (the PyPI wheel is built without"
                             " sound; `make pjsua2` builds one with ALSA)")
    raise DeviceNotFound(f"no capture-and-playback device for ALSA card {card_id!r} among"
                         f" {len(devices)} sound devices")


def validated(devices: list[tuple[str, int, int]], index: int, name: str) -> bool:
    """True when `index` is still the device called `name` and can record and play (the list may
    have changed since the index was picked: a headset plugged in or out)."""
    return 0 <= index < len(devices) and devices[index][0] == name and min(devices[index][1:]) > 0
