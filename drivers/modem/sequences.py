"""The AT command sequences, as plain functions over anything with `command()` and `send()`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from drivers.modem import quirks as q
from drivers.modem.errors import ModemError, PortLost

# Whatever state a previous run left the modem in (perhaps mid-stream), this ends it: with a single-
# DLE model the first two DLEs are one literal byte, then DLE ^ / DLE ! act; a triple-DLE model
# takes all three. In command mode the line is junk without "AT", which modems ignore.
WAKE = b"\x10\x10\x10^\x10\x10\x10!\r"


class Commands(Protocol):
    def command(self, command: str, expect: tuple[str, ...] = ("OK",), timeout: float = 2.0) -> list[str]: ...

    def send(self, data: bytes) -> None: ...


@dataclass(frozen=True)
class Timeouts:
    command: float = 2.0
    reset: float = 4.0       # ATZ takes a while on USR
    dial: float = 20.0       # ATD returns once the digits are out
    hangup: float = 2.0      # DLE ^ -> DLE ETX / OK


@dataclass(frozen=True)
class Identity:
    product: str       # ATI0
    description: str   # ATI3
    quirks: q.ModelQuirks


def optional(run: Callable[[], object], note: Callable[[str], None]) -> None:
    """Commands some modems refuse; an ERROR is noted, a lost port is not swallowed."""
    try:
        run()
    except PortLost:
        raise
    except ModemError as error:
        note(str(error))


def reset(modem: Commands, timeouts: Timeouts) -> None:
    modem.command("ATZ", timeout=timeouts.reset)
    modem.command("ATE0", timeout=timeouts.command)
    modem.command("ATV1", timeout=timeouts.command)


def identify(modem: Commands, timeouts: Timeouts, forced_model: str | None,
             caller_id_region: str | None, note: Callable[[str], None]) -> Identity:
    """Reset, learn the model, and leave the modem in voice class with caller ID on, waiting for rings."""
    modem.send(WAKE)
    # Audio still in flight from an interrupted stream reads as garbage: let one command absorb it.
    optional(lambda: modem.command("AT", timeout=min(timeouts.command, 1.0)), note)
    reset(modem, timeouts)
    product = " ".join(modem.command("ATI0", timeout=timeouts.command))
    description = " ".join(modem.command("ATI3", timeout=timeouts.command))
    quirks = q.MODELS[forced_model] if forced_model else q.detect(product, description)
    listen_for_calls(modem, timeouts, caller_id_region, note)
    return Identity(product, description, quirks)


def listen_for_calls(modem: Commands, timeouts: Timeouts, caller_id_region: str | None,
                     note: Callable[[str], None]) -> None:
    optional(lambda: modem.command("AT+VCID=1", timeout=timeouts.command), note)
    if caller_id_region:
        region = caller_id_region
        optional(lambda: modem.command(f"AT!4886={q.CALLER_ID_REGIONS[region]}", timeout=timeouts.command),
                 lambda error: note(f"caller-ID region {region} not supported by this modem, which decodes "
                                    f"its default (usually Bell FSK): {error}"))
    modem.command("AT+FCLASS=8", timeout=timeouts.command)


def configure_voice(modem: Commands, quirks: q.ModelQuirks, timeouts: Timeouts,
                    caller_id_region: str | None, note: Callable[[str], None]) -> q.VoiceFormat:
    """ATZ ... AT+VIT=0: everything before going off hook. Returns the format the modem accepted."""
    reset(modem, timeouts)
    listen_for_calls(modem, timeouts, caller_id_region, note)
    chosen = None
    for voice_format in quirks.voice_formats:
        try:
            modem.command(f"AT+VSM={voice_format.vsm}", timeout=timeouts.command)
        except PortLost:
            raise
        except ModemError as error:
            note(str(error))
            continue
        chosen = voice_format
        break
    if chosen is None:
        offered = " / ".join(f.vsm for f in quirks.voice_formats)
        raise ModemError(f"the modem accepts none of the voice formats {offered} (model {quirks.name})")
    optional(lambda: modem.command(f"AT+VSD={quirks.vsd}", timeout=timeouts.command), note)
    optional(lambda: modem.command("AT+VIT=0", timeout=timeouts.command), note)
    return chosen


def off_hook(modem: Commands, timeouts: Timeouts) -> None:
    modem.command("AT+VLS=1", timeout=timeouts.command)


def start_duplex(modem: Commands, timeouts: Timeouts) -> None:
    modem.command("AT+VTR", expect=("CONNECT",), timeout=timeouts.command)


def start_receive(modem: Commands, timeouts: Timeouts) -> None:
    """Receive-only voice stream (the line test listens; the host sends no audio)."""
    modem.command("AT+VRX", expect=("CONNECT",), timeout=timeouts.command)


def dial_digits(modem: Commands, number: str, quirks: q.ModelQuirks, timeouts: Timeouts) -> None:
    if not number:
        return
    if quirks.dial_method == "vts":
        modem.command("AT+VTS=" + ",".join(number), timeout=timeouts.dial)
    else:
        modem.command(f"ATDT{number}", expect=("OK", "VCON"), timeout=timeouts.dial)


def on_hook(modem: Commands, timeouts: Timeouts, note: Callable[[str], None]) -> None:
    optional(lambda: modem.command("ATH", timeout=timeouts.command), note)
