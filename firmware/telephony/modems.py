"""Analog lines through voice modems, as legs of the conference bridge.

The modem driver runs its own threads and only hands its events to the loop (`DeviceEvent`); here,
on the loop thread, they become the engine's events for a leg. Call audio crosses into the bridge
through a pjsua2 `AudioMediaPort` whose callbacks (on the media clock thread) only pop and push
20 ms frames of the driver's buffers.
"""

from __future__ import annotations

import logging

import pjsua2 as pj

import dataclasses

from drivers.modem import (CallConnected, CallEnded, DigitReceived, HangupCause, LineChanged, LinePolicy, Modem,
                           ModemFault, ModemSettings)
from drivers.modem.tones import BUSY_TONES
from firmware import events as ev
from firmware.engine.ports import DialFailed

log = logging.getLogger(__name__)
FRAME_BYTES = 320


def modem_settings(line) -> ModemSettings:
    """The driver's settings from a modem line's configuration (`settings.Line`); 0 turns a guard off."""
    busy = dataclasses.replace(BUSY_TONES[line.busy_tone], cycles=line.busy_tone_cycles)
    policy = LinePolicy(answer_after_rings=line.answer_after_rings,
                        busy_tone=busy if line.busy_tone_cycles else None,
                        max_silence=line.max_silence_s or None, max_call_seconds=line.max_call_s or None)
    region = None if line.caller_id_region == "default" else line.caller_id_region
    return ModemSettings(line=policy, caller_id_region=region)


class ModemPort(pj.AudioMediaPort):
    def __init__(self, modem: Modem):
        super().__init__()
        self.modem = modem

    # While the port is being destroyed, Python has already cleared its attributes but the bridge may
    # still call it until the C++ side unregisters: hence getattr, not self.modem.
    def onFrameRequested(self, frame):
        modem = getattr(self, "modem", None)
        if modem is None:
            frame.type = pj.PJMEDIA_FRAME_TYPE_NONE
            return
        try:
            modem.bridge_clock.tick()
            frame.buf = pj.ByteVector(modem.rx.pop())
            frame.size = FRAME_BYTES
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        except Exception:
            log.exception("modem port: frame requested")

    def onFrameReceived(self, frame):
        modem = getattr(self, "modem", None)
        if modem is None:
            return
        try:
            if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
                modem.tx.push(bytes(frame.buf))
        except Exception:
            log.exception("modem port: frame received")


def make_port(modem: Modem, name: str) -> ModemPort:
    fmt = pj.MediaFormatAudio()
    fmt.init(pj.PJMEDIA_FORMAT_PCM, 8000, 1, 20000, 16)
    port = ModemPort(modem)
    port.createPort(name, fmt)
    return port


class ModemLine:
    """One modem line: its driver, the state it reports, and the leg of its call in progress."""

    def __init__(self, name: str, modem: Modem):
        self.name, self.modem = name, modem
        self.state = "offline"
        self.leg: str | None = None
        self.dialling = False  # the call in progress is one the box dialled
        # One media port for the line's whole life: destroying a port while the bridge's clock
        # thread may be calling into it crashed the engine (SIGSEGV) when a call ended under load.
        self.port: ModemPort | None = None

    def media_port(self) -> "ModemPort":
        if self.port is None:
            self.port = make_port(self.modem, f"modem-{self.name}")
        return self.port

    def translate(self, event, new_leg) -> list:
        """Driver event -> engine events (on the loop thread). `new_leg(line, port)` registers a leg."""
        if isinstance(event, LineChanged):
            self.state = event.state.value
            log.info("modem line %s: %s -> %s (%s)", self.name, event.previous.value, event.state.value,
                     event.reason)
        elif isinstance(event, ModemFault):
            log.warning("modem line %s: %s; retrying in %.0f s", self.name, event.error, event.retry_in)
        elif isinstance(event, CallConnected) and event.direction == "incoming":
            caller = event.caller_id
            self.leg = new_leg(self, self.media_port())
            return [ev.IncomingCall(self.leg, "", "", caller.number if caller else "",
                                    caller.name if caller else "", line=self.name)]
        elif isinstance(event, CallConnected) and self.leg:
            # Dialled: an analog line has no answer signal, so the call counts as answered once the
            # digits are out and audio flows (the operator hears the ringing and the pick-up).
            new_leg(self, self.media_port(), self.leg)
            return [ev.LegAnswered(self.leg)]
        elif isinstance(event, DigitReceived) and self.leg:
            return [ev.DtmfDigit(self.leg, event.digit)]
        elif isinstance(event, CallEnded) and self.leg:
            leg, self.leg = self.leg, None
            lost = event.cause == HangupCause.failed  # the modem vanished, stopped answering, or a dial failed
            busy = event.cause in (HangupCause.busy_report, HangupCause.busy_cadence)
            status = 503 if lost else 486 if busy and self.dialling else 0
            self.dialling = False
            return [ev.LegEnded(leg, status, "line lost" if lost else f"line: {event.cause.value}")]
        return []

    def dial(self, number: str, leg: str) -> None:
        """Go off hook and dial for the engine; the leg is answered when the audio flows."""
        if self.leg is not None or not self.modem.dial(number):
            raise DialFailed(f"line {self.name} is {self.state}, not free to dial")
        self.leg, self.dialling = leg, True
