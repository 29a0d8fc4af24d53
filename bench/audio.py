"""What the benchmark checks in each call's recording.

The engine records the conversation mixed (caller + operator) from the conference bridge. The
benchmark's caller sends a 1 kHz tone and its operator a 1.7 kHz tone, so each leg can be followed
separately in the mix:
- dropouts: firmware.sim.analysis.dropouts, 20 ms frames of digital silence between the first and
  the last audible frame (both legs silent at once: the bridge or the recorder lost audio);
- leg gaps: 10 ms frames in which one leg's tone is missing (below a tenth of its median level)
  between that tone's first and last appearance: what reached the bridge from that leg's jitter
  buffer was lost or late (pjmedia's packet loss concealment can hide single missing packets).
"""

from __future__ import annotations

import numpy as np

from firmware.sim import analysis

CALLER_HZ = 1000.0
OPERATOR_HZ = 1700.0


def leg_gaps(samples: np.ndarray, rate: int, hz: float, frame_ms: float = 10.0,
             floor: float = 0.1) -> tuple[int, float]:
    """(gap events, total gap ms) of the tone at hz. Frames are 10 ms, so 1 kHz and 1.7 kHz fall on
    exact DFT bins and do not leak into each other."""
    n = int(rate * frame_ms / 1000)
    count = len(samples) // n
    if count < 3:
        return 0, 0.0
    frames = samples[:count * n].reshape(count, n)
    basis = np.exp(-2j * np.pi * hz * np.arange(n) / rate)
    amp = np.abs(frames @ basis) * 2 / n
    loud = amp[amp > 1e-4]
    if len(loud) == 0:
        return 0, 0.0
    present = amp > floor * float(np.median(loud))
    idx = np.flatnonzero(present)
    inner = ~present[idx[0]:idx[-1] + 1]
    if not inner.any():
        return 0, 0.0
    starts = np.flatnonzero(inner & ~np.concatenate(([False], inner[:-1])))
    return int(len(starts)), float(inner.sum() * frame_ms)


def check(path: str) -> dict:
    rate, samples = analysis.read_wav(path)
    cg, cms = leg_gaps(samples, rate, CALLER_HZ)
    og, oms = leg_gaps(samples, rate, OPERATOR_HZ)
    return {
        "seconds": round(len(samples) / rate, 2),
        "dropouts": analysis.dropouts(samples, rate=rate),
        "caller_gaps": cg, "caller_gap_ms": cms,
        "operator_gaps": og, "operator_gap_ms": oms,
        "caller_tone_s": analysis.tone_seconds(samples, CALLER_HZ, rate=rate),
        "operator_tone_s": analysis.tone_seconds(samples, OPERATOR_HZ, rate=rate),
    }
