"""The modem driver's settings, and the fault it reports while it cannot reach the modem."""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.modem.line import LinePolicy
from drivers.modem.quirks import CALLER_ID_REGIONS
from drivers.modem.sequences import Timeouts
from drivers.modem.transport import Backoff


@dataclass(frozen=True)
class ModemFault:
    """Opening or initialising the modem failed; the driver tries again in `retry_in` seconds."""

    error: str
    retry_in: float


@dataclass(frozen=True)
class ModemSettings:
    """Everything about one modem line that is a choice rather than a fact about the model."""

    line: LinePolicy = field(default_factory=LinePolicy)
    model: str | None = None               # force a quirk table ("usr5637", "conexant", "generic")
    caller_id_region: str | None = None    # a key of quirks.CALLER_ID_REGIONS (AT!4886=, Conexant); None: default
    timeouts: Timeouts = field(default_factory=Timeouts)
    dial_tone_timeout: float = 3.0         # wait this long for DLE d after going off hook
    require_dial_tone: bool = False        # many modems never report it: dial blind by default
    backoff: Backoff = field(default_factory=Backoff)
    tx_lead: float = 0.2                   # seconds of audio kept queued in the modem
    prefill_frames: int = 3                # 60 ms of audio before a buffer starts giving frames
    buffer_frames: int = 25                # 500 ms at most; beyond, the oldest frame is dropped
    max_prefill_frames: int = 12           # stalls and underruns raise the pre-fill up to 240 ms (FrameBuffer)
    jitter_window_frames: int = 50         # a backlog that stands for 1 s is trimmed to the pre-fill
    read_timeout: float = 0.05             # the reader's poll: also how soon a quiet line is noticed

    def __post_init__(self) -> None:
        if self.caller_id_region is not None and self.caller_id_region not in CALLER_ID_REGIONS:
            raise ValueError(f"caller-ID region {self.caller_id_region!r}: use one of {', '.join(CALLER_ID_REGIONS)}")
