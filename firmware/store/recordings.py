"""The recordings folder: where each call's WAV goes, and mending the ones a crash left open."""

from __future__ import annotations

import logging
import struct
from pathlib import Path

log = logging.getLogger(__name__)


def folder(data_dir: Path) -> Path:
    path = Path(data_dir) / "recordings"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(data_dir: Path, call_id: str) -> Path:
    return folder(data_dir) / f"{call_id}.wav"


def repair(path: Path) -> bool:
    """Fix the RIFF and data sizes of a WAV whose writer was killed (they are left at 0).

    Returns True when the header was rewritten. Only the two size fields are touched.
    """
    with open(path, "r+b") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return False
        size = path.stat().st_size
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                data_size = size - offset - 8
                if chunk_size == data_size and struct.unpack("<I", header[4:8])[0] == size - 8:
                    return False
                f.seek(4)
                f.write(struct.pack("<I", size - 8))
                f.seek(offset + 4)
                f.write(struct.pack("<I", data_size))
                return True
            offset += 8 + chunk_size + (chunk_size & 1)
    return False


def left_open(data_dir: Path) -> list[Path]:
    """Every WAV that an engine killed or without power may have left open (headers unchecked: the
    listing alone, cheap at start-up; `repair` them later)."""
    return sorted(folder(data_dir).glob("*.wav")) + sorted((Path(data_dir) / "voicemail").glob("*/*.wav"))


def repair_all(data_dir: Path) -> list[Path]:
    """Call recordings and voicemail messages left open by an engine that was killed or lost power."""
    files = left_open(data_dir)
    repaired = [p for p in files if repair(p)]
    for p in repaired:
        log.warning("recording %s was left open by an interrupted engine; header repaired", p.name)
    return repaired


def duration_s(path: Path, bytes_per_second: int = 16000) -> float:
    """Length of an 8 kHz 16-bit mono recording, from its size (works on unrepaired files too)."""
    return max(0, Path(path).stat().st_size - 44) / bytes_per_second


def free_bytes(data_dir: Path):
    """A reader of the free space where recordings are written (for the engine's disk guard)."""
    import shutil

    return lambda: shutil.disk_usage(folder(data_dir)).free


def finish(path: Path) -> bool:
    """After a recorder stopped on a write error (disk full): drop a half-written sample at the end and
    make the header's sizes match what is on disk, so the file plays up to where it stopped."""
    try:
        size = Path(path).stat().st_size
        if size > 44 and (size - 44) % 2:
            with open(path, "r+b") as f:
                f.truncate(size - 1)
        return repair(Path(path))
    except OSError as exc:
        log.error("cannot finish recording %s: %s", path, exc)
        return False
