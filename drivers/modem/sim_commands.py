"""The simulated modem's command mode: one AT line in, the bytes a modem of that model answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drivers.modem.simulator import SimulatedModem


@dataclass
class CommandState:
    """What ATZ resets, plus the line and stream state."""

    echo: bool = True
    fclass: str = "0"
    vsm: str = ""
    off_hook: bool = False
    voice: bool = False
    voice_started: float = 0.0
    samples_sent: int = 0
    last_audio_byte: int | None = None
    last_write: float = 0.0
    worst_write_gap: float = 0.0  # the simulator's own stalls: a real modem never has them
    dial_tone: bool = False       # off hook for an outgoing call, nothing dialled yet: the exchange's dial tone


def reply(*lines: str) -> bytes:
    return b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines)


OK, ERROR = reply("OK"), reply("ERROR")


def answer_command(sim: "SimulatedModem", line: str, now: float) -> bytes:
    command = line.upper().replace(" ", "")
    state, model = sim.state, sim.model
    if command == "AT":
        return OK
    if command == "ATZ":
        sim.state = CommandState()
        return OK
    if command in ("ATE0", "ATE1", "ATE"):
        state.echo = command == "ATE1"
        return OK
    if command in ("ATV1", "ATV0"):
        return OK
    if command in ("ATI", "ATI0"):
        return reply(model.ati0, "OK")
    if command == "ATI3":
        return reply(model.ati3, "OK")
    if command.startswith("AT+VCID="):
        return OK
    if command.startswith("AT!4886="):
        return OK if model.name == "conexant" else ERROR
    if command.startswith("AT+FCLASS="):
        value = command.split("=", 1)[1]
        if value == "?":
            return reply("0,1,8", "OK")
        state.fclass = value
        return OK
    if command == "AT+FCLASS?":
        return reply(state.fclass, "OK")
    if state.fclass != "8" and command.startswith("AT+V"):
        return ERROR
    return _voice_command(sim, command, now)


def _voice_command(sim: "SimulatedModem", command: str, now: float) -> bytes:
    state, model = sim.state, sim.model
    if command.startswith("AT+VSM="):
        argument = command.split("=", 1)[1]
        if argument == "?":
            return reply(*model.voice_formats, "OK")
        if argument not in model.voice_formats:
            return ERROR
        state.vsm = argument
        return OK
    if command.startswith(("AT+VSD=", "AT+VIT=", "AT+VGT=", "AT+VGR=")):
        return OK
    if command == "AT+VLS=1":
        _off_hook(sim, now)
        return OK
    if command in ("AT+VLS=0", "ATH", "ATH0"):
        state.off_hook = state.dial_tone = False
        return OK
    if command.startswith("ATD"):
        number = command[3:].lstrip("TP").rstrip(";")
        sim.dialled.append(number)
        state.dial_tone = False
        if not state.off_hook:
            state.off_hook = True
        return reply(sim.dial_result)
    if command.startswith("AT+VTS="):
        sim.dialled.append("".join(command.split("=", 1)[1].split(",")))
        state.dial_tone = False
        return OK
    if command in ("AT+VTR", "AT+VRX"):  # duplex, or receive only (the host then sends no audio)
        if not (state.off_hook and state.vsm):
            return ERROR
        state.voice, state.voice_started, state.samples_sent = True, now, 0
        state.last_write, state.worst_write_gap = now, 0.0
        sim.phone.clear_heard()
        sim.answered(now)
        return reply("CONNECT")
    return ERROR


def _off_hook(sim: "SimulatedModem", now: float) -> None:
    state = sim.state
    if state.off_hook:
        return
    state.off_hook = True
    if now < sim.ringing_until:
        sim.answered_after_rings = sim.rings_sent
        sim.ringing_until = 0.0
        sim._scheduled = [item for item in sim._scheduled if item[1] not in ("ring", "text")]
    else:
        sim._on_answer = []  # an outgoing call: nothing of an unanswered incoming one carries over
        if sim.dial_tone is not None:  # a dead line has none: no report, no tone
            state.dial_tone = True
            sim._schedule(now + 0.15, "in_band", "d")  # dial tone, reported as DLE d
