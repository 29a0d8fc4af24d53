"""The recording encoder (`switchboard encode`, switchboard-encoder.service at idle priority):
finished recordings to Opus in WebM, the WAV kept until the result is verified.

Why ffmpeg from Debian rather than PyAV from PyPI: it is maintained and security-patched by Debian
on the box like every other package (PyAV's wheels bundle their own FFmpeg build, updated only with
PyAV), it links Debian's libopus, it runs in its own process (a crash or a hang costs one file, not
the worker; a timeout ends it), and the same binary verifies the result by decoding it. WebM, not
Ogg: Safari plays Opus only in WebM/MP4. 16 kb/s VoIP mode is ~8x smaller than 8 kHz 16-bit WAV.

A recording is finished when its call record has ended (`calls.ended_at`). For each one: encode to
`<id>.webm.part`, decode that completely and compare its length with the WAV's, then rename it to
`<id>.webm` (atomic), and only then delete the WAV. A failure leaves the WAV as it was, removes the
partial file and writes `<id>.encode-failed` with the reason (not retried until that file is gone).

The call record keeps naming the WAV; `current_file(path)` gives whichever file exists now (the web
admin and the CLI use it to find a recording).
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

FFMPEG = "ffmpeg"
BITRATE = "16k"
# Opus works in 20 ms frames and ffmpeg trims its pre-skip: a good encode decodes to the WAV's length
# within a frame or two.
TOLERANCE_S = 0.06
FAILED_SUFFIX = ".encode-failed"


class EncodeError(Exception):
    pass


@dataclass(frozen=True)
class Result:
    wav: Path
    webm: Path | None
    seconds: float
    ok: bool
    detail: str = ""


def webm_for(wav: Path) -> Path:
    return Path(wav).with_suffix(".webm")


def current_file(recording: str | Path) -> Path | None:
    """The file a recording is in now: the WAV until it is encoded, then the WebM."""
    wav = Path(recording)
    if wav.is_file():
        return wav
    webm = webm_for(wav)
    return webm if webm.is_file() else None


def lengths_match(wav_s: float, decoded_s: float, tolerance_s: float = TOLERANCE_S) -> bool:
    return abs(wav_s - decoded_s) <= tolerance_s


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        if w.getnframes() == 0:
            raise EncodeError(f"{path.name} holds no audio")
        return w.getnframes() / w.getframerate()


def decoded_seconds(path: Path, run=subprocess.run, timeout: float = 600) -> float:
    """Decode the whole file (so a truncated or damaged one fails) and measure what came out."""
    rate = 8000
    result = run([FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"],
                 capture_output=True, timeout=timeout)
    if result.returncode != 0 or result.stderr.strip():
        raise EncodeError(f"decoding {path.name} failed: {result.stderr.decode(errors='replace').strip()[-300:]}")
    return len(result.stdout) / 2 / rate


def encode(wav: Path, run=subprocess.run, timeout: float = 600) -> Result:
    """One recording: encode, verify, swap. The WAV goes only once the WebM is proven whole."""
    wav = Path(wav)
    webm, part = webm_for(wav), wav.with_suffix(".webm.part")
    try:
        seconds = wav_seconds(wav)
        result = run([FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(wav), "-map_metadata", "-1",
                      "-c:a", "libopus", "-b:a", BITRATE, "-application", "voip", "-ac", "1",
                      "-f", "webm", str(part)], capture_output=True, timeout=timeout)
        if result.returncode != 0:
            raise EncodeError(f"ffmpeg failed: {result.stderr.decode(errors='replace').strip()[-300:]}")
        decoded = decoded_seconds(part, run, timeout)
        if not lengths_match(seconds, decoded):
            raise EncodeError(f"the encoded file lasts {decoded:.3f} s, the recording {seconds:.3f} s")
        if not wav.exists():  # the recording was deleted meanwhile: do not bring it back as a WebM
            part.unlink(missing_ok=True)
            return Result(wav, None, seconds, False, "deleted while it was encoded")
        with open(part, "rb") as f:
            os.fsync(f.fileno())
        os.replace(part, webm)
        _fsync_dir(wav.parent)
        wav.unlink()
        _fsync_dir(wav.parent)
        return Result(wav, webm, seconds, True)
    except (EncodeError, wave.Error, EOFError, OSError, subprocess.TimeoutExpired) as exc:
        part.unlink(missing_ok=True)
        detail = str(exc) or type(exc).__name__
        if not wav.exists():  # deleted meanwhile: nothing to mark
            return Result(wav, None, 0.0, False, "deleted while it was encoded")
        wav.with_suffix(FAILED_SUFFIX).write_text(detail + "\n")
        log.warning("recording %s not encoded (kept as WAV): %s", wav.name, detail)
        return Result(wav, None, 0.0, False, detail)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pending(data_dir: Path) -> list[Path]:
    """WAVs of calls that have ended, still to encode (oldest first)."""
    from firmware.store import db as dbmod
    try:
        db = dbmod.open_read(data_dir)
    except FileNotFoundError:
        return []
    try:
        rows = db.execute("select recording from calls where ended_at is not null and recording like '%.wav' "
                          "order by ended_at").fetchall()
    finally:
        db.conn.close()
    folder = (Path(data_dir) / "recordings").resolve()
    found = []
    for (recording,) in rows:
        path = Path(recording)
        if not path.is_absolute():
            path = folder / path.name
        if path.is_file() and path.resolve().parent == folder and not path.with_suffix(FAILED_SUFFIX).exists():
            found.append(path)
    return found


def run_worker(data_dir: Path, once: bool = False, interval_s: float = 30,
               say: Callable[[str], None] = print, sleep=time.sleep) -> int:
    """Encode what is pending; with once=False keep looking every interval_s. Returns failures."""
    failures = 0
    while True:
        for wav in pending(Path(data_dir)):
            result = encode(wav)
            failures += not result.ok
            say(f"{wav.name}: {'-> ' + result.webm.name + f' ({result.seconds:.1f} s)' if result.ok else 'kept, ' + result.detail}")
        if once:
            return failures
        sleep(interval_s)
