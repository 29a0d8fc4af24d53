"""The headset test's verdict: the microphone's input level from what was recorded (pure, off the loop).

Levels are dBFS of 16-bit PCM without DC: peak and RMS over the test, and per second so a technician
speaking or tapping the microphone sees when it picked them up.
"""

from __future__ import annotations

import wave

import numpy as np

NO_INPUT_DBFS = -60.0   # below this the microphone sends nothing usable (muted, unplugged capsule)
QUIET_DBFS = -45.0      # speech into a working headset microphone is far above this
FLOOR_DBFS = -120.0


def dbfs(value: float) -> float:
    return round(20 * np.log10(value / 32768.0), 1) if value > 0 else FLOOR_DBFS


def read_pcm(path: str) -> tuple[int, np.ndarray]:
    """(rate, samples) of a 16-bit mono WAV; an empty or unreadable file is no samples."""
    try:
        with wave.open(path, "rb") as w:
            if w.getsampwidth() != 2:
                return w.getframerate(), np.zeros(0)
            data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
            return w.getframerate(), data[:: w.getnchannels()]
    except (FileNotFoundError, EOFError, wave.Error):
        return 8000, np.zeros(0)


def levels(samples: np.ndarray, rate: int) -> dict:
    if not samples.size:
        return {"seconds": 0.0, "peak_dbfs": FLOOR_DBFS, "rms_dbfs": FLOOR_DBFS, "per_second": []}
    samples = samples - samples.mean()
    per_second = []
    for start in range(0, len(samples), rate):
        part = samples[start:start + rate]
        if len(part) >= rate // 4:
            per_second.append({"peak_dbfs": dbfs(float(np.abs(part).max())),
                               "rms_dbfs": dbfs(float(np.sqrt(np.mean(part ** 2))))})
    return {"seconds": round(len(samples) / rate, 2), "peak_dbfs": dbfs(float(np.abs(samples).max())),
            "rms_dbfs": dbfs(float(np.sqrt(np.mean(samples ** 2)))), "per_second": per_second}


def verdict(measured: dict) -> tuple[bool, str]:
    """(ok, one sentence) on the microphone."""
    peak, rms = measured["peak_dbfs"], measured["rms_dbfs"]
    if peak < NO_INPUT_DBFS:
        return False, (f"NO INPUT from the microphone (peak {peak:.0f} dBFS): check that the headset's"
                       " microphone is plugged in, not muted, and speak into it during the test")
    if rms < QUIET_DBFS:
        return True, (f"microphone input is very quiet (RMS {rms:.0f} dBFS, peak {peak:.0f} dBFS):"
                      " speak during the test, or raise the capture level")
    return True, f"microphone input OK: RMS {rms:.0f} dBFS, peak {peak:.0f} dBFS"


def check(result: dict) -> dict:
    """The engine's headset test result (file paths) -> levels and a verdict."""
    if result.get("error"):
        return {**result, "ok": False, "verdict": f"HEADSET TEST FAILED: {result['error']}"}
    rate, samples = read_pcm(result["mic"])
    measured = levels(samples, rate)
    ok, text = verdict(measured)
    return {**result, "input": measured, "ok": ok, "verdict": text}


def latest(path: str, since_wall: float, seconds: float = 0.5, rate: int = 8000) -> dict | None:
    """Levels of the newest `seconds` of a microphone recording still being written (pjmedia writes
    it in blocks of about a quarter second); None until a recording newer than `since_wall` has some."""
    import os
    try:
        if os.stat(path).st_mtime < since_wall:
            return None
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            want = int(seconds * rate) * 2
            f.seek(max(44, size - want - (size - 44) % 2))
            data = f.read(want)
    except FileNotFoundError:
        return None
    samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float64)
    measured = levels(samples, max(1, len(samples)))  # nothing written yet: the floor, shown as silence
    return {"peak_dbfs": measured["peak_dbfs"], "rms_dbfs": measured["rms_dbfs"]}
