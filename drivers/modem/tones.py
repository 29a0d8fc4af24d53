"""Pure detectors over 16-bit PCM at 8 kHz: busy-tone cadence and long silence.

Cheap modems sense no loop current, so the end of a call is often only the busy tone the exchange
plays after the far end hung up. Detection works on 20 ms blocks: each block is classified as
`tone` (nearly all its energy at the busy-tone frequencies), `quiet` or `other`; the cadence is then
a run-length check (on ~0.5 s, off ~0.5 s, repeated `cycles` times). Speech fails both tests:
its energy is spread over many harmonics, and its runs are neither steady nor regular.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

RATE = 8000
BLOCK = 160  # 20 ms
BLOCK_SECONDS = BLOCK / RATE


@dataclass(frozen=True)
class BusyToneSpec:
    """The local busy tone. North America: 480+620 Hz, 0.5 s on / 0.5 s off (UK 400 Hz 0.375/0.375,
    much of Europe 425 Hz 0.5/0.5)."""

    frequencies: tuple[float, ...] = (480.0, 620.0)
    on_seconds: float = 0.5
    off_seconds: float = 0.5
    tolerance_seconds: float = 0.12  # how far each on/off run may stray from nominal
    cycles: int = 4                  # full on+off cycles before the call is declared over
    min_level_dbfs: float = -40.0    # quieter blocks count as "off"
    min_tone_share: float = 0.7      # share of a block's energy at the tone frequencies


# The busy tones a modem line can be told to expect (the `busy_tone` setting of a modem line).
BUSY_TONES = {
    "north_america": BusyToneSpec((480.0, 620.0), 0.5, 0.5),
    "europe": BusyToneSpec((425.0,), 0.5, 0.5),      # CEPT recommendation: most of continental Europe
    "uk": BusyToneSpec((400.0,), 0.375, 0.375),
}


class Block(str, Enum):
    tone = "tone"
    quiet = "quiet"
    other = "other"


def level_dbfs(samples: np.ndarray) -> float:
    power = float(np.mean(np.square(samples, dtype=np.float64))) if samples.size else 0.0
    return 10 * np.log10(power / 32768.0 ** 2) if power > 0 else -120.0


class ToneShare:
    """The share of a block's energy at given frequencies (a Goertzel-style single-bin DFT each)."""

    def __init__(self, frequencies: tuple[float, ...], block: int = BLOCK, rate: int = RATE) -> None:
        n = np.arange(block)
        self._basis = np.exp(-2j * np.pi * np.outer(frequencies, n) / rate)  # (freqs, block)
        self._block = block

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Per frequency: 2|X(f)|^2 / (N * sum x^2); a pure sine at f gives ~1."""
        energy = float(np.dot(samples, samples))
        if energy <= 0:
            return np.zeros(self._basis.shape[0])
        spectrum = self._basis @ samples
        return 2 * np.abs(spectrum) ** 2 / (self._block * energy)


class BusyToneDetector:
    """Feed PCM of any length; `feed` returns True once when the cadence has been seen `cycles` times."""

    def __init__(self, spec: BusyToneSpec = BusyToneSpec()) -> None:
        self.spec = spec
        self._share = ToneShare(spec.frequencies)
        self._pending = np.zeros(0, dtype=np.float64)
        self._run_kind: Block | None = None
        self._run_blocks = 0
        self._glitch = False
        self._after_valid_on = False
        self.cycles_seen = 0

    def reset(self) -> None:
        self.__init__(self.spec)

    def classify(self, samples: np.ndarray) -> Block:
        if level_dbfs(samples) < self.spec.min_level_dbfs:
            return Block.quiet
        shares = self._share(samples)
        each = 0.4 / len(shares)  # every component must be there, not just one of them
        if shares.sum() >= self.spec.min_tone_share and (shares >= each).all():
            return Block.tone
        return Block.other

    def feed(self, pcm: bytes) -> bool:
        samples = np.concatenate([self._pending, np.frombuffer(pcm, dtype="<i2").astype(np.float64)])
        whole = len(samples) - len(samples) % BLOCK
        self._pending = samples[whole:]
        detected = False
        for start in range(0, whole, BLOCK):
            detected |= self._block(self.classify(samples[start:start + BLOCK]))
        return detected

    def _block(self, kind: Block) -> bool:
        # A block straddling a tone edge looks like neither tone nor quiet: one such block is
        # counted with the run it interrupts; two in a row are really something else.
        if kind is Block.other and self._run_kind is not Block.other and not self._glitch:
            self._glitch = True
            return False
        if self._glitch:
            self._glitch = False
            if kind is Block.other:
                detected = self._close_run()
                self._run_kind, self._run_blocks = Block.other, 2
                return detected
            self._run_blocks += 1
        if kind is self._run_kind:
            self._run_blocks += 1
            return False
        detected = self._close_run()
        self._run_kind, self._run_blocks = kind, 1
        return detected

    def _close_run(self) -> bool:
        kind, seconds, spec = self._run_kind, self._run_blocks * BLOCK_SECONDS, self.spec
        if kind is Block.tone:
            self._after_valid_on = abs(seconds - spec.on_seconds) <= spec.tolerance_seconds
            if not self._after_valid_on:
                self.cycles_seen = 0
            return False
        if kind is Block.quiet and self._after_valid_on:
            self._after_valid_on = False
            if abs(seconds - spec.off_seconds) > spec.tolerance_seconds:
                self.cycles_seen = 0
                return False
            self.cycles_seen += 1
            if self.cycles_seen >= spec.cycles:
                self.cycles_seen = 0
                return True
            return False
        if kind is not None:
            self._after_valid_on = False
            self.cycles_seen = 0
        return False


class SilenceMeter:
    """Counts how long the audio has stayed below `level_dbfs` (by samples, not by clock).

    The level is taken without the block's DC offset: 8-bit modem formats quantize a quiet line to
    codes flickering between 127 and 128, i.e. -256 and 0 after conversion, whose plain RMS (-45 dBFS)
    would read as sound for ever. The default threshold (-40 dBFS) sits above that flicker (-48 dBFS
    without DC) and far below speech (-15 to -30 dBFS on a phone line)."""

    def __init__(self, level_dbfs: float = -40.0) -> None:
        self.level = level_dbfs
        self.silent_samples = 0

    def feed(self, pcm: bytes) -> float:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        if samples.size and level_dbfs(samples - samples.mean()) < self.level:
            self.silent_samples += samples.size
        elif samples.size:
            self.silent_samples = 0
        return self.silent_samples / RATE


# --- Dial tone (the line test) --------------------------------------------------------------------

DIAL_TONES = {
    "north_america": (350.0, 440.0),  # also the UK's
    "europe": (425.0,),               # CEPT: most of continental Europe
}
DIAL_BLOCK = 800  # 100 ms: 10 Hz bins, enough to tell 425 Hz from 440 Hz


@dataclass(frozen=True)
class DialToneHeard:
    """What the line carried while off hook: which dial tone (None: none), how much of it, how loud."""

    kind: str | None
    seconds: float        # 100 ms blocks classified as that dial tone
    listened: float       # seconds of audio judged
    level_dbfs: float     # of the whole capture, without DC

    def describe(self) -> str:
        if self.kind is None:
            return f"no dial tone in {self.listened:.1f} s of audio (level {self.level_dbfs:.0f} dBFS)"
        hz = "+".join(f"{f:g}" for f in DIAL_TONES[self.kind])
        return (f"{self.kind} dial tone ({hz} Hz) for {self.seconds:.1f} of {self.listened:.1f} s,"
                f" level {self.level_dbfs:.0f} dBFS")


def hear_dial_tone(pcm: bytes, min_share: float = 0.7, min_level_dbfs: float = -45.0) -> DialToneHeard:
    """Classify 16-bit PCM heard off hook. A dial tone is steady: it must fill at least `min_share` of
    the blocks (speech, noise or a busy cadence do not)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    whole = len(samples) - len(samples) % DIAL_BLOCK
    blocks = samples[:whole].reshape(-1, DIAL_BLOCK) if whole else np.zeros((0, DIAL_BLOCK))
    level = level_dbfs(samples - samples.mean()) if samples.size else -120.0
    counts = {kind: 0 for kind in DIAL_TONES}
    shares = {kind: ToneShare(freqs, DIAL_BLOCK) for kind, freqs in DIAL_TONES.items()}
    for block in blocks:
        block = block - block.mean()
        if level_dbfs(block) < min_level_dbfs:
            continue
        for kind in DIAL_TONES:
            found = shares[kind](block)
            each = 0.25 if len(found) > 1 else min_share  # both components of a dual tone
            if found.sum() >= min_share and (found >= each).all():
                counts[kind] += 1
                break
    listened = len(blocks) * DIAL_BLOCK / RATE
    kind = max(counts, key=counts.get) if blocks.size else None
    if kind is None or counts[kind] < min_share * len(blocks):
        return DialToneHeard(None, 0.0, listened, level)
    return DialToneHeard(kind, counts[kind] * DIAL_BLOCK / RATE, listened, level)
