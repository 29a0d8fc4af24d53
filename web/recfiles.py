"""Where a call's recording file is, as the web may serve it: only files inside <data_dir>/recordings."""

from __future__ import annotations

from pathlib import Path

from firmware.store import recording_files, recordings
from web.box import box


def file_of(row: dict) -> Path | None:
    """The call's recording file as it is now (the WAV, or the WebM the encoder replaced it by), if it
    exists and lies inside the recordings folder."""
    if not row.get("recording"):
        return None
    folder = box().recordings_folder.resolve()
    path = Path(row["recording"])
    if not path.is_absolute():  # an engine started with a relative --data-dir stores relative paths
        path = folder / path.name
    path = path.resolve()
    if not path.is_relative_to(folder):
        return None
    return recording_files.current(path)


def mimetype(path: Path) -> str:
    return recording_files.MIME.get(path.suffix, "application/octet-stream")


def info(row: dict) -> dict | None:
    """What the pages show about a call's recording: its size and length, or that the file is gone."""
    if not row.get("recording"):
        return None
    path = file_of(row)
    if path is None:
        return {"missing": True}
    # An encoded (Opus) file's length is the call's talk time: reading it would mean decoding it.
    seconds = recordings.duration_s(path) if path.suffix == ".wav" else row.get("talk_s")
    return {"missing": False, "size": path.stat().st_size, "seconds": seconds, "encoded": path.suffix == ".webm",
            "in_progress": row.get("ended_at") is None, "name": path.name}
