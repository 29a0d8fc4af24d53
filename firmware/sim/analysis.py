"""What was heard: tones, sound and silence in a WAV recording (pure numpy).

Used by tests and by the simulated phone to check calls by ear: "the caller heard the 440 Hz
ringback, then speech", "the recording holds both legs' tones", "no gaps in the audio".
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import numpy as np

_FULL_SCALE = 32768.0
_DIGITAL_SILENCE = 2 / _FULL_SCALE
# Share of a frame's energy that one spectral peak must hold for the frame to count as a tone.
_TONE_SHARE = 0.6
# Share a band must hold for a tone to be "present" when mixed with other audio.
_PRESENT_SHARE = 0.15
_MERGE_HZ = 15.0


@dataclass(frozen=True)
class Segment:
    """A stretch of the same kind of audio: a steady tone at freq_hz, or other sound."""

    kind: str  # 'tone' or 'sound'
    freq_hz: float | None
    start_s: float
    end_s: float

    @property
    def duration(self) -> float:
        return self.end_s - self.start_s


# --- reading -------------------------------------------------------------------------------------

def read_wav(path: str | os.PathLike) -> tuple[int, np.ndarray]:
    """Return (rate, mono float samples in [-1, 1]) of a 16-bit PCM WAV file.

    Stereo is mixed down. A zero or oversized data chunk size (a recording left by a killed
    process) means: everything after the data chunk header.
    """
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    fmt = None
    pos = 12
    while pos + 8 <= len(blob):
        chunk_id, size = blob[pos:pos + 4], struct.unpack("<I", blob[pos + 4:pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt = struct.unpack("<HHIIHH", blob[body:body + 16])
        elif chunk_id == b"data":
            if fmt is None:
                raise ValueError(f"{path}: data chunk before fmt chunk")
            end = len(blob) if size == 0 or body + size > len(blob) else body + size
            return _decode(path, fmt, blob[body:end])
        pos = body + size + (size & 1)
    raise ValueError(f"{path}: no data chunk")


def _decode(path, fmt, data: bytes) -> tuple[int, np.ndarray]:
    tag, channels, rate, _, _, bits = fmt
    if tag not in (1, 0xFFFE) or bits != 16:
        raise ValueError(f"{path}: only 16-bit PCM is supported (format {tag}, {bits} bits)")
    usable = len(data) - len(data) % (2 * channels)
    samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float64) / _FULL_SCALE
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return rate, samples


def _load(path_or_samples, rate: int | None) -> tuple[int, np.ndarray]:
    if isinstance(path_or_samples, (str, os.PathLike)):
        return read_wav(path_or_samples)
    if rate is None:
        raise ValueError("rate is required when samples are given")
    return rate, np.asarray(path_or_samples, dtype=np.float64)


# --- per-frame measurements -----------------------------------------------------------------------

def _frames(samples: np.ndarray, rate: int, frame_ms: float) -> np.ndarray:
    n = max(1, int(rate * frame_ms / 1000))
    count = len(samples) // n
    return samples[:count * n].reshape(count, n)


def _dbfs(frames: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def _power_spectra(frames: np.ndarray) -> np.ndarray:
    """Hann-windowed power spectra without the DC bin's content."""
    centred = frames - frames.mean(axis=1, keepdims=True)
    spectra = np.abs(np.fft.rfft(centred * np.hanning(frames.shape[1]), axis=1)) ** 2
    spectra[:, 0] = 0.0
    return spectra


def _peak(power: np.ndarray, bin_hz: float) -> tuple[float, float]:
    """(frequency, share of energy) of the strongest peak; Hann's main lobe is +-2 bins."""
    total = power.sum()
    k = int(np.argmax(power))
    if total <= 0 or k == 0:
        return 0.0, 0.0
    share = power[max(k - 2, 1):k + 3].sum() / total
    offset = 0.0
    if 1 <= k < len(power) - 1:
        # Gaussian interpolation of the peak: accurate to a few Hz for a Hann window.
        a, b, c = np.log(power[k - 1:k + 2] + 1e-30)
        denom = a - 2 * b + c
        if denom < 0:
            offset = 0.5 * (a - c) / denom
    return (k + offset) * bin_hz, share


def _band_share(spectra: np.ndarray, bin_hz: float, hz: float, tolerance_hz: float) -> np.ndarray:
    freqs = np.arange(spectra.shape[1]) * bin_hz
    band = np.abs(freqs - hz) <= tolerance_hz + 2 * bin_hz
    total = spectra.sum(axis=1)
    return np.where(total > 0, spectra[:, band].sum(axis=1) / np.maximum(total, 1e-30), 0.0)


# --- segments ------------------------------------------------------------------------------------

def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if a[0] != b[0]:
        return False
    return a[0] == "sound" or abs(a[1] - b[1]) <= _MERGE_HZ


def _frame_labels(samples, rate, frame_ms, silence_dbfs) -> list:
    frames = _frames(samples, rate, frame_ms)
    if len(frames) == 0:
        return []
    loud = _dbfs(frames) >= silence_dbfs
    spectra = _power_spectra(frames)
    bin_hz = rate / frames.shape[1]
    labels = []
    for is_loud, power in zip(loud, spectra):
        if not is_loud:
            labels.append(None)
            continue
        freq, share = _peak(power, bin_hz)
        labels.append(("tone", freq) if share > _TONE_SHARE else ("sound", None))
    return labels


def _bridge_single_frames(labels: list) -> list:
    out = list(labels)
    for i in range(1, len(labels) - 1):
        before, after = labels[i - 1], labels[i + 1]
        if before is not None and _same(before, after) and not _same(labels[i], before):
            out[i] = before
    return out


def segments(samples: np.ndarray, rate: int, frame_ms: float = 50, min_ms: float = 250,
             silence_dbfs: float = -45) -> list[Segment]:
    """Split audio into tone and sound segments; silence separates them."""
    labels = _bridge_single_frames(_frame_labels(np.asarray(samples, float), rate, frame_ms,
                                                 silence_dbfs))
    frame_s = frame_ms / 1000
    found: list[Segment] = []
    run = None  # [kind, first frame, tone frequencies]
    for i, label in enumerate(labels + [None]):
        if run is not None and label is not None:
            reference = ("tone", float(np.mean(run[2]))) if run[0] == "tone" else ("sound", None)
            if _same(label, reference):
                if label[0] == "tone":
                    run[2].append(label[1])
                continue
        if run is not None and (i - run[1]) * frame_ms >= min_ms:
            freq = round(float(np.mean(run[2])), 1) if run[0] == "tone" else None
            found.append(Segment(run[0], freq, round(run[1] * frame_s, 3), round(i * frame_s, 3)))
        run = None if label is None else [label[0], i, [label[1]] if label[0] == "tone" else []]
    return found


# --- tone presence ---------------------------------------------------------------------------------

def _tone_frames(path_or_samples, hz, tolerance_hz, rate, frame_ms=50,
                 silence_dbfs=-45) -> tuple[np.ndarray, float]:
    rate, samples = _load(path_or_samples, rate)
    frames = _frames(samples, rate, frame_ms)
    if len(frames) == 0:
        return np.zeros(0, bool), frame_ms / 1000
    share = _band_share(_power_spectra(frames), rate / frames.shape[1], hz, tolerance_hz)
    return (share > _PRESENT_SHARE) & (_dbfs(frames) >= silence_dbfs), frame_ms / 1000


def tone_seconds(path_or_samples, hz: float, tolerance_hz: float = 20,
                 rate: int | None = None) -> float:
    """Total seconds in which a tone near hz is present, alone or mixed with other audio."""
    present, frame_s = _tone_frames(path_or_samples, hz, tolerance_hz, rate)
    return round(float(present.sum()) * frame_s, 3)


def has_tone(path_or_samples, hz: float, min_s: float = 0.5, tolerance_hz: float = 20,
             rate: int | None = None) -> bool:
    """True when a tone near hz lasts at least min_s without a break (one-frame gaps ignored)."""
    present, frame_s = _tone_frames(path_or_samples, hz, tolerance_hz, rate)
    bridged = present.copy()
    bridged[1:-1] |= present[:-2] & present[2:]
    longest = run = 0
    for p in bridged:
        run = run + 1 if p else 0
        longest = max(longest, run)
    return longest * frame_s >= min_s - 1e-9


# --- dropouts and description ----------------------------------------------------------------------

def dropouts(path_or_samples, frame_ms: float = 20, rate: int | None = None) -> int:
    """Frames of digital silence between the first and the last frame that carries audio."""
    rate, samples = _load(path_or_samples, rate)
    frames = _frames(samples, rate, frame_ms)
    silent = np.all(np.abs(frames) < _DIGITAL_SILENCE, axis=1)
    audible = np.flatnonzero(~silent)
    if len(audible) < 2:
        return 0
    return int(silent[audible[0]:audible[-1] + 1].sum())


def describe(found: list[Segment]) -> str:
    """One line per segment, e.g. '0.00-3.20 s  tone 440 Hz'."""
    if not found:
        return "(silence)"
    lines = []
    for seg in found:
        what = (f"tone {seg.freq_hz:.0f} Hz" if seg.kind == "tone"
                else "sound (speech or music)")
        lines.append(f"{seg.start_s:.2f}-{seg.end_s:.2f} s  {what}")
    return "\n".join(lines)
