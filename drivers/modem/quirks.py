"""What differs between modem models, learned once at detection from the ATI0/ATI3 answers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class SampleFormat(str, Enum):
    """How one 8 kHz audio sample travels as one byte."""

    unsigned8 = "unsigned8"  # offset binary, silence 0x80: (b - 128) << 8
    linear8 = "linear8"      # V.253 "8-bit linear"; USR sends it offset binary, like unsigned8
    ulaw = "ulaw"            # G.711 u-law
    alaw = "alaw"            # G.711 A-law


@dataclass(frozen=True)
class VoiceFormat:
    """One `AT+VSM=` argument and the sample format the modem then streams."""

    vsm: str
    sample_format: SampleFormat


@dataclass(frozen=True)
class ModelQuirks:
    """Per-model constants. `voice_formats` are tried in order until the modem answers OK."""

    name: str
    voice_formats: tuple[VoiceFormat, ...]
    vsd: str                  # AT+VSD=<sensitivity>,<interval>; interval 0 leaves silence to the host
    dle_prefix: bytes         # host -> modem before ETX / ! / ^
    dial_method: str = "atd"  # "atd" (ATDT<number>) or "vts" (AT+VTS=<digit>,...)

    def end_stream(self) -> bytes:
        """Ends full duplex (AT+VTR): the modem answers DLE ETX and OK."""
        return self.dle_prefix + b"^"

    def abort_stream(self) -> bytes:
        return self.dle_prefix + b"!"

    def as_dict(self) -> dict:
        return {"name": self.name, "vsd": self.vsd, "dle_prefix": self.dle_prefix.hex(),
                "dial_method": self.dial_method,
                "voice_formats": [f"{f.vsm} ({f.sample_format.value})" for f in self.voice_formats]}


DLE = b"\x10"

USR5637 = ModelQuirks(
    name="usr5637",
    voice_formats=(VoiceFormat("128,8000", SampleFormat.linear8),
                   VoiceFormat("130,8000", SampleFormat.unsigned8)),
    vsd="128,0",
    dle_prefix=DLE,
)

CONEXANT = ModelQuirks(
    name="conexant",
    voice_formats=(VoiceFormat("1,8000,0,0", SampleFormat.unsigned8),
                   VoiceFormat("1,8000", SampleFormat.unsigned8)),
    vsd="0,0",
    dle_prefix=DLE * 3,  # Conexant units were found to ignore a single DLE before ETX/!/^
)

GENERIC = ModelQuirks(
    name="generic",
    voice_formats=(VoiceFormat("1,8000,0,0", SampleFormat.unsigned8),
                   VoiceFormat("1,8000", SampleFormat.unsigned8),
                   VoiceFormat("128,8000", SampleFormat.linear8)),
    vsd="0,0",
    dle_prefix=DLE,
)

# Caller-ID decoding standard: Conexant firmware that has `AT!4886=<code>` decodes the one chosen;
# other modems decode their default (nearly always Bell 202 FSK, North America) and refuse the command.
CALLER_ID_REGIONS = {"bell": "00", "etsi": "02", "uk": "03", "dtmf": "05"}

MODELS = {quirks.name: quirks for quirks in (USR5637, CONEXANT, GENERIC)}


def detect(ati0: str, ati3: str = "") -> ModelQuirks:
    """The model from its identity answers; unknown modems get the generic table."""
    product = ati0.strip()
    if product == "5601":
        return USR5637
    if product == "56000":
        return CONEXANT
    description = ati3.upper()
    if "ROBOTICS" in description or "USR" in description:
        return USR5637
    if "CONEXANT" in description or "CX93" in description:
        return CONEXANT
    return GENERIC
