"""The analog line as a pure state machine: protocol events and requests in, decisions out.

`Line` does no I/O. Every input method returns a list of outputs: `Action`s for the modem shell to
carry out (answer, dial, hang up) and `LineEvent`s for whoever owns calls (the engine). The clock
is injected; audio-based guards count samples, so tests need neither threads nor sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

from drivers.modem import protocol as p
from drivers.modem.tones import BusyToneDetector, BusyToneSpec, SilenceMeter


class IllegalTransition(RuntimeError):
    pass


class LineState(str, Enum):
    offline = "offline"        # no modem (unplugged, not yet opened, not answering)
    idle = "idle"              # on hook, waiting for rings
    ringing = "ringing"        # rings are being counted
    answering = "answering"    # going off hook and starting the duplex stream
    dialing = "dialing"        # outgoing: off hook, dial tone, digits, duplex stream
    in_call = "in_call"        # audio flows both ways
    hanging_up = "hanging_up"  # ending the stream, going on hook
    testing = "testing"        # the technician's line test: off hook, listening for dial tone


TRANSITIONS: dict[LineState, set[LineState]] = {
    LineState.offline: {LineState.idle},
    LineState.idle: {LineState.ringing, LineState.dialing, LineState.offline, LineState.testing},
    LineState.ringing: {LineState.answering, LineState.idle, LineState.offline},
    LineState.answering: {LineState.in_call, LineState.hanging_up, LineState.offline},
    LineState.dialing: {LineState.in_call, LineState.hanging_up, LineState.offline},
    LineState.in_call: {LineState.hanging_up, LineState.offline},
    LineState.hanging_up: {LineState.idle, LineState.offline},
    LineState.testing: {LineState.idle, LineState.offline},
}


class HangupCause(str, Enum):
    local = "local"                      # asked for by the application
    busy_report = "busy_report"          # DLE b
    dial_tone = "dial_tone"              # DLE d while in a call
    loop_break = "loop_break"            # DLE l
    silence_report = "silence_report"    # DLE s
    end_of_stream = "end_of_stream"      # the modem left the voice stream by itself
    busy_cadence = "busy_cadence"        # our own detector over the audio
    max_silence = "max_silence"
    max_call_length = "max_call_length"
    failed = "failed"                    # answering or dialing did not reach the duplex stream


DISCONNECT_REPORTS = {
    p.ToneKind.busy: HangupCause.busy_report,
    p.ToneKind.dial_tone: HangupCause.dial_tone,
    p.ToneKind.loop_break: HangupCause.loop_break,
    p.ToneKind.silence: HangupCause.silence_report,
}


@dataclass(frozen=True)
class LinePolicy:
    """Decisions that are settings: when to answer, when a call is considered over."""

    answer_after_rings: int | None = 2   # None: only when asked (`Line.answer`)
    ring_timeout: float = 8.0            # no ring for this long: the caller gave up
    hangup_on: frozenset[p.ToneKind] = frozenset(DISCONNECT_REPORTS)
    busy_tone: BusyToneSpec | None = field(default_factory=BusyToneSpec)  # None: no cadence guard
    max_silence: float | None = 120.0
    silence_dbfs: float = -40.0          # see tones.SilenceMeter
    max_call_seconds: float | None = 3600.0


# --- Outputs -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """Action: go off hook and start the duplex stream."""


@dataclass(frozen=True)
class Dial:
    """Action: go off hook, wait for dial tone, dial, start the duplex stream."""

    number: str


@dataclass(frozen=True)
class HangUp:
    """Action: end the stream and go on hook."""

    cause: HangupCause


@dataclass(frozen=True)
class LineChanged:
    """The line moved from `previous` to `state`; `reason` says why, in words."""

    previous: LineState
    state: LineState
    reason: str = ""


@dataclass(frozen=True)
class Ringing:
    """A ring was counted; `caller_id` is None until the modem reported it (after ring 1)."""

    count: int
    caller_id: p.CallerId | None


@dataclass(frozen=True)
class CallerIdReceived:
    caller_id: p.CallerId


@dataclass(frozen=True)
class CallConnected:
    """Audio flows both ways. `direction` is "incoming" or "outgoing"."""

    direction: str
    caller_id: p.CallerId | None = None
    number: str = ""


@dataclass(frozen=True)
class DigitReceived:
    digit: str


@dataclass(frozen=True)
class CallEnded:
    """The call (or the attempt) is over; the line is hanging up."""

    cause: HangupCause
    seconds: float


Action = Answer | Dial | HangUp
LineEvent = LineChanged | Ringing | CallerIdReceived | CallConnected | DigitReceived | CallEnded
Output = Action | LineEvent


class Line:
    def __init__(self, policy: LinePolicy, clock: Callable[[], float]) -> None:
        self.policy, self.clock = policy, clock
        self.state = LineState.offline
        self.rings = 0
        self.caller_id: p.CallerId | None = None
        self.direction = ""
        self.number = ""
        self._last_ring = self._call_started = 0.0
        self._busy = BusyToneDetector(policy.busy_tone) if policy.busy_tone else None
        self._silence = SilenceMeter(policy.silence_dbfs)

    # -- the modem's life --

    def modem_ready(self, description: str = "") -> list[Output]:
        return self._move(LineState.idle, f"modem ready {description}".strip())

    def modem_lost(self, reason: str) -> list[Output]:
        if self.state is LineState.offline:
            return []
        return self._ended_call(HangupCause.failed) + self._move(LineState.offline, reason)

    # -- requests --

    def answer(self) -> list[Output]:
        self._require(LineState.answering)
        self.direction = "incoming"
        return self._move(LineState.answering, "answer requested") + [Answer()]

    def dial(self, number: str) -> list[Output]:
        self._require(LineState.dialing)
        self.direction, self.number = "outgoing", number
        return self._move(LineState.dialing, f"dialing {number}") + [Dial(number)]

    def hang_up(self, cause: HangupCause = HangupCause.local) -> list[Output]:
        self._require(LineState.hanging_up)
        return self._ended_call(cause) + self._move(LineState.hanging_up, cause.value) + [HangUp(cause)]

    def start_test(self) -> list[Output]:
        """The line test takes the line off hook; only an idle line (no call, not ringing) may."""
        self._require(LineState.testing)
        return self._move(LineState.testing, "line test")

    def test_over(self) -> list[Output]:
        if self.state is not LineState.testing:
            return []  # the modem was lost meanwhile
        return self._move(LineState.idle, "line test over, on hook")

    # -- outcomes of actions --

    def connected(self) -> list[Output]:
        self._call_started = self.clock()
        if self._busy:
            self._busy.reset()
        self._silence.silent_samples = 0
        return self._move(LineState.in_call, "duplex stream started") + [
            CallConnected(self.direction, self.caller_id, self.number)]

    def failed(self, reason: str) -> list[Output]:
        """Answering or dialing failed; hang up what was started."""
        return (self._ended_call(HangupCause.failed) + self._move(LineState.hanging_up, reason)
                + [HangUp(HangupCause.failed)])

    def hung_up(self) -> list[Output]:
        self.rings, self.caller_id, self.direction, self.number = 0, None, "", ""
        return self._move(LineState.idle, "on hook")

    # -- what the modem reports --

    def handle(self, event: p.Event) -> list[Output]:
        state = self.state
        if isinstance(event, p.Ring) or event == p.Tone(p.ToneKind.ring):
            return self._ring() if state in (LineState.idle, LineState.ringing) else []
        if isinstance(event, p.CallerId) and state in (LineState.idle, LineState.ringing):
            self.caller_id = event
            return [CallerIdReceived(event)]
        if state is not LineState.in_call:
            return []
        if isinstance(event, p.Dtmf):
            return [DigitReceived(event.digit)]
        if isinstance(event, p.Tone) and event.kind in self.policy.hangup_on:
            return self.hang_up(DISCONNECT_REPORTS[event.kind])
        if isinstance(event, p.EndOfStream):
            return self.hang_up(HangupCause.end_of_stream)
        return []

    def hear(self, pcm: bytes) -> list[Output]:
        """Received audio (16-bit PCM): the application's own disconnect guard."""
        if self.state is not LineState.in_call:
            return []
        if self._busy and self._busy.feed(pcm):
            return self.hang_up(HangupCause.busy_cadence)
        silent_for = self._silence.feed(pcm)
        if self.policy.max_silence is not None and silent_for >= self.policy.max_silence:
            return self.hang_up(HangupCause.max_silence)
        return []

    def tick(self) -> list[Output]:
        now = self.clock()
        if self.state is LineState.ringing and now - self._last_ring > self.policy.ring_timeout:
            self.rings, self.caller_id = 0, None
            return self._move(LineState.idle, "rings stopped")
        limit = self.policy.max_call_seconds
        if self.state is LineState.in_call and limit is not None and now - self._call_started >= limit:
            return self.hang_up(HangupCause.max_call_length)
        return []

    # -- internals --

    def _ring(self) -> list[Output]:
        self._last_ring = self.clock()
        self.rings += 1
        outputs: list[Output] = []
        if self.state is LineState.idle:
            outputs += self._move(LineState.ringing, "ring")
        outputs.append(Ringing(self.rings, self.caller_id))
        wanted = self.policy.answer_after_rings
        if wanted is not None and self.rings >= wanted:
            outputs += self.answer()
        return outputs

    def _ended_call(self, cause: HangupCause) -> list[Output]:
        if self.state not in (LineState.answering, LineState.dialing, LineState.in_call):
            return []
        seconds = self.clock() - self._call_started if self.state is LineState.in_call else 0.0
        return [CallEnded(cause, seconds)]

    def _require(self, new: LineState) -> None:
        if new not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {new.value}")

    def _move(self, new: LineState, reason: str) -> list[Output]:
        self._require(new)
        previous, self.state = self.state, new
        return [LineChanged(previous, new, reason)]
