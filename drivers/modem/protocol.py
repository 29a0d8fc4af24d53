"""V.253 voice-modem byte stream -> typed events. Pure: no I/O, no clock.

The modem talks in two modes. In command mode it prints CR/LF-terminated lines (result codes, RING,
caller-ID tag lines, answers to ATI). After `CONNECT` (answer to AT+VTR/VTX/VRX in voice class) the
stream is audio with DLE-shielded events until `DLE ETX` returns it to command mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

DLE = 0x10
ETX = 0x03
MAX_LINE = 256  # a longer line without CR/LF is not a modem talking: report it as garbage


# --- Events ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ring:
    """The line rings (`RING` line, or `DLE R` in voice class)."""


@dataclass(frozen=True)
class CallerId:
    """One formatted caller-ID report (the tag lines between the first and second ring).

    `number` and `name` are empty when absent; `withheld` says why the number is absent
    ("private" for `P`, "unavailable" for `O`). `raw` keeps the lines as received, for diagnosis.
    """

    number: str = ""
    name: str = ""
    date: str = ""  # MMDD
    time: str = ""  # HHMM
    raw: str = ""
    withheld: str = ""
    messages: tuple[str, ...] = ()  # MESG = <hex>: tags the modem did not decode


@dataclass(frozen=True)
class Dtmf:
    """A DTMF digit detected on the line (`DLE 0-9 * # A-D`)."""

    digit: str


class ToneKind(str, Enum):
    """In-band reports other than digits, by their DLE code."""

    busy = "b"
    dial_tone = "d"
    silence = "s"
    quiet = "q"
    loop_break = "l"
    handset_on_hook = "h"
    handset_off_hook = "H"
    ring = "R"
    tx_underrun = "u"
    rx_overrun = "o"


@dataclass(frozen=True)
class Tone:
    """A DLE-shielded report: busy tone, dial tone, silence, loop-current break, ..."""

    kind: ToneKind


@dataclass(frozen=True)
class UnknownShielded:
    """A `DLE x` code this parser does not know (kept for diagnostics)."""

    code: int


@dataclass(frozen=True)
class Result:
    """A final result code other than CONNECT: OK, ERROR, BUSY, NO CARRIER, NO DIALTONE, ..."""

    text: str

    @property
    def ok(self) -> bool:
        return self.text == "OK"


@dataclass(frozen=True)
class Connect:
    """`CONNECT`: the modem entered a voice stream; audio follows."""

    text: str = "CONNECT"


@dataclass(frozen=True)
class Text:
    """An information line (answers to ATI, AT+FCLASS?, ...)."""

    text: str


@dataclass(frozen=True)
class Echo:
    """The modem echoing a command line (before ATE0)."""

    text: str


@dataclass(frozen=True)
class Garbage:
    """Bytes that cannot be a modem line (too long without CR/LF)."""

    data: bytes


@dataclass(frozen=True)
class Audio:
    """Unshielded audio bytes in the modem's sample format."""

    data: bytes


@dataclass(frozen=True)
class EndOfStream:
    """`DLE ETX`: the voice stream ended; the modem is back in command mode."""


Event = (Ring | CallerId | Dtmf | Tone | UnknownShielded | Result | Connect | Text | Echo | Garbage
         | Audio | EndOfStream)

FINAL_RESULTS = frozenset({"OK", "ERROR", "BUSY", "NO CARRIER", "NO DIALTONE", "NO DIAL TONE",
                           "NO ANSWER", "VCON"})
DTMF_CODES = frozenset(b"0123456789*#ABCD")
TONE_CODES = {ord(kind.value): kind for kind in ToneKind}
CALLER_ID_TAG = re.compile(r"^(DATE|TIME|NMBR|NAME|MESG|DDN_NMBR)\s*=\s*(.*?)\s*$")
WITHHELD = {"P": "private", "O": "unavailable"}


def shield(audio: bytes) -> bytes:
    """Host -> modem audio: every literal DLE byte is sent twice."""
    return audio.replace(b"\x10", b"\x10\x10")


class DleSplitter:
    """Splits a DLE-shielded stream into audio chunks (bytes) and codes (int), across feeds."""

    def __init__(self) -> None:
        self._dle_pending = False

    def split(self, data: bytes) -> list[bytes | int]:
        items: list[bytes | int] = []
        audio = bytearray()
        i, n = 0, len(data)
        if self._dle_pending and n:
            self._dle_pending = False
            self._code(data[0], audio, items)
            i = 1
        while i < n:
            j = data.find(b"\x10", i)
            if j < 0:
                audio += data[i:]
                break
            audio += data[i:j]
            if j + 1 == n:
                self._dle_pending = True
                break
            self._code(data[j + 1], audio, items)
            i = j + 2
        if audio:
            items.append(bytes(audio))
        return items

    @staticmethod
    def _code(code: int, audio: bytearray, items: list) -> None:
        if code == DLE:
            audio.append(DLE)
        else:
            if audio:
                items.append(bytes(audio))
                audio.clear()
            items.append(code)


class Mode(str, Enum):
    command = "command"
    voice = "voice"


TEXT_BYTES = frozenset(range(32, 127)) | {0x0D, 0x0A}  # what a modem prints in command mode (DLE is split off before)


class Parser:
    """Incremental parser: `feed(bytes)` returns the events completed so far."""

    def __init__(self) -> None:
        self.mode = Mode.command
        self._line = bytearray()
        self._splitter = DleSplitter()
        self._caller_id_lines: list[str] = []
        self._skip_lf = False  # the LF of CONNECT's CR/LF must not become the first audio byte
        # Bytes in command mode that no modem prints (a wrong port or speed). Counted here, byte by
        # byte, because audio may follow CONNECT in the same read and must not count.
        self.unprintable = 0

    def reset(self, mode: Mode = Mode.command) -> None:
        """Forget partial input (after a timeout the host forces the mode it knows the modem is in)."""
        self.mode = mode
        self._line.clear()
        self._splitter = DleSplitter()
        self._skip_lf = False

    def flush(self) -> list[Event]:
        """The line went quiet: a caller-ID block cannot grow any more, so report it now."""
        return self._finish_caller_id()

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for item in self._splitter.split(data):
            if isinstance(item, bytes):
                if self.mode is Mode.voice:
                    self._voice_bytes(item, events)
                else:
                    self._command_bytes(item, events)
            else:
                self._shielded(item, events)
        return events

    # -- internals --

    def _shielded(self, code: int, events: list[Event]) -> None:
        self._skip_lf = False
        if code == ETX:
            events.append(EndOfStream())
            self.mode = Mode.command
        elif code in DTMF_CODES:
            events.append(Dtmf(chr(code)))
        elif code == ord("R"):
            events.append(Ring())
        elif code in TONE_CODES:
            events.append(Tone(TONE_CODES[code]))
        else:
            events.append(UnknownShielded(code))

    def _voice_bytes(self, data: bytes, events: list[Event]) -> None:
        if self._skip_lf:
            self._skip_lf = False
            data = data[1:] if data[:1] == b"\n" else data
        if data:
            events.append(Audio(data))

    def _command_bytes(self, data: bytes, events: list[Event]) -> None:
        for index, byte in enumerate(data):
            if self.mode is Mode.voice:  # CONNECT switched modes in the middle of this chunk
                self._voice_bytes(data[index:], events)
                return
            if byte not in TEXT_BYTES:
                self.unprintable += 1
            if byte in (0x0D, 0x0A):
                if self._line:
                    self._line_done(self._line.decode("ascii", "replace").strip(), events)
                    self._line.clear()
                    self._skip_lf = self.mode is Mode.voice and byte == 0x0D
            else:
                self._line.append(byte)
                if len(self._line) > MAX_LINE:
                    events.append(Garbage(bytes(self._line)))
                    self._line.clear()

    def _line_done(self, text: str, events: list[Event]) -> None:
        if not text:
            return
        tag = CALLER_ID_TAG.match(text)
        if tag:
            self._caller_id_lines.append(text)
            return
        events.extend(self._finish_caller_id())
        upper = text.upper()
        if upper in FINAL_RESULTS:
            events.append(Result(upper))
        elif upper.startswith("CONNECT"):
            events.append(Connect(text))
            self.mode = Mode.voice
        elif upper == "RING" or (upper.startswith("RING") and len(upper) <= 6):
            events.append(Ring())
        elif upper.startswith("AT"):
            events.append(Echo(text))
        else:
            events.append(Text(text))

    def _finish_caller_id(self) -> list[Event]:
        if not self._caller_id_lines:
            return []
        lines, self._caller_id_lines = self._caller_id_lines, []
        return [caller_id_from_lines(lines)]


def caller_id_from_lines(lines: list[str]) -> CallerId:
    """Assemble tag lines (either `TAG = value` or `TAG=value`) into one record; partial is fine."""
    fields: dict[str, str] = {}
    messages: list[str] = []
    for line in lines:
        match = CALLER_ID_TAG.match(line)
        if not match:
            continue
        tag, value = match.groups()
        if tag == "MESG":
            messages.append(value)
        elif tag == "DDN_NMBR":
            fields.setdefault("NMBR", value)
        else:
            fields[tag] = value
    number, name = fields.get("NMBR", ""), fields.get("NAME", "")
    withheld = WITHHELD.get(number, "")
    return CallerId(number="" if withheld else number,
                    name="" if name in WITHHELD else name,
                    date=fields.get("DATE", ""), time=fields.get("TIME", ""),
                    raw="\n".join(lines), withheld=withheld, messages=tuple(messages))
