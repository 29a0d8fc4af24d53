"""The vocabulary into the engine: what happened (events) and what is asked of it (commands).

Adapters (SIP, stations, the control socket, timers) only build these and hand them to the engine
loop; every decision is taken there, on the one thread that owns pjsua2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from firmware.settings import Settings


# --- Events: what happened at the edges -----------------------------------------------------------

@dataclass(frozen=True)
class IncomingCall:
    """An INVITE reached the box (not yet answered)."""

    leg: str
    source_ip: str
    dialled: str
    caller_id: str
    caller_name: str = ""
    line: str | None = None
    """Set for calls on a line of the box's own (a modem); SIP calls are matched by source address."""
    operator: str | None = None
    """The SIP user name the edge authenticated (digest) for this INVITE: an operator dialling out.
    Only ever set from the edge's own header, believed only from the edge's loopback socket."""


@dataclass(frozen=True)
class IncomingRefused:
    """pjsua2 refused an INVITE by itself before the engine saw it (e.g. every call slot in use)."""

    source_ip: str
    status: int
    reason: str


@dataclass(frozen=True)
class RecordingFailed:
    """A call's recorder could not be created or written (disk full, folder gone)."""

    key: str
    reason: str


@dataclass(frozen=True)
class DeviceEvent:
    """Something a hardware driver reported (a modem line's ring, digit, hang-up, fault)."""

    source: str
    event: object


@dataclass(frozen=True)
class LegAnswered:
    """A leg the box placed (an operator's phone) was answered."""

    leg: str


@dataclass(frozen=True)
class LegEnded:
    """A leg is gone: hung up by the far end, cancelled, failed or rejected."""

    leg: str
    status: int = 0
    reason: str = ""


@dataclass(frozen=True)
class DtmfDigit:
    leg: str
    digit: str


@dataclass(frozen=True)
class HeadsetChanged:
    """A station's headset was unplugged (present False) or plugged back in (found by the headset
    watcher: drivers/audio discovery, polled)."""

    station: str
    present: bool
    detail: str = ""


@dataclass(frozen=True)
class PlaybackDone:
    """The prompts started with `token` on a leg have been played to the end."""

    leg: str
    token: int


# --- Commands: what a person or another process asks ---------------------------------------------

@dataclass(frozen=True)
class OperatorAction:
    """ready, pause (with a reason) or logout for one operator."""

    operator: str
    action: str
    reason: str = ""


@dataclass(frozen=True)
class PanelButton:
    """A button on a station's panel: answer (answers, or hangs up), ready (ready/pause; long: log
    out) or transfer."""

    station: str
    button: str
    long_press: bool = False


@dataclass(frozen=True)
class MessagesChanged:
    """Voicemail messages were marked or deleted: this many are still unheard (the box LED)."""

    unheard: int


@dataclass(frozen=True)
class Transfer:
    """Hand an operator's connected caller to another operator (by name) or back to the queue
    ("queue")."""

    operator: str
    target: str
    by: str = "command"


@dataclass(frozen=True)
class Reload:
    """Apply a new configuration without dropping calls in progress."""

    settings: Settings = field(repr=False)


@dataclass(frozen=True)
class SetHoursOverride:
    """The manual day/night switch: auto, day or night."""

    mode: str


@dataclass(frozen=True)
class GetStatus:
    pass


@dataclass(frozen=True)
class GetStreamStats:
    """The SIP legs' jitter-buffer figures (underruns, lost and discarded frames), for the benchmark."""


@dataclass(frozen=True)
class GetLine:
    """One line's state and, for a modem line, its diagnostics."""

    line: str


@dataclass(frozen=True)
class HoldLoop:
    """The technician's watchdog test: the engine loop stops turning for this long."""

    seconds: float


@dataclass(frozen=True)
class LineTest:
    """The technician's line test: a modem line goes off hook for a dial-tone check (off the loop, in
    its driver); a SIP line gives the address to send an OPTIONS ping to."""

    line: str


@dataclass(frozen=True)
class HeadsetTest:
    """The technician's headset test: a tone into a free station's headset for `seconds`, its
    microphone recorded to measure the input level."""

    operator: str
    seconds: float = 5.0


Event = IncomingCall | IncomingRefused | DeviceEvent | LegAnswered | LegEnded | DtmfDigit | PlaybackDone | HeadsetChanged
Command = OperatorAction | PanelButton | Reload | SetHoursOverride | GetStatus | GetLine | HoldLoop | Transfer
Command = Command | LineTest | HeadsetTest
