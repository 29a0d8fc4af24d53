"""Recording retention: which recordings to delete by age and by disk use (`decide`, pure), and the
thin shell that finds the files, deletes them and logs each deletion through the store writer
(`Retention`, run periodically by the engine and on demand over the control socket).

Never deleted: a recording whose call is still in progress, and anything outside <data>/recordings.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from firmware import settings as settings_mod
from firmware.store import db as dbmod, queries, recording_files

log = logging.getLogger(__name__)
MB = 1_000_000
INTERVAL_S = 600.0
"""How often the engine applies the policy (the first run is FIRST_RUN_S after start)."""
FIRST_RUN_S = 60.0


@dataclass(frozen=True)
class Policy:
    keep_days: int = 0
    """Delete recordings older than this (0: no age limit)."""
    max_total_bytes: int = 0
    """Delete the oldest while all recordings take more than this (0: no limit)."""
    min_free_bytes: int = 0
    """Delete the oldest while the disk has less free space than this (0: no limit)."""

    @classmethod
    def of(cls, recording: settings_mod.Recording) -> "Policy":
        return cls(recording.keep_days, recording.max_total_mb * MB, recording.keep_free_mb * MB)

    @property
    def active(self) -> bool:
        return bool(self.keep_days or self.max_total_bytes or self.min_free_bytes)


@dataclass(frozen=True)
class RecordingFile:
    name: str
    """The file's name in the recordings folder (<call id>.wav, or .webm once encoded)."""
    size: int
    modified: dt.datetime
    """When it was last written: the end of its call (aware, UTC)."""
    in_progress: bool = False


@dataclass(frozen=True)
class Deletion:
    file: RecordingFile
    reason: str


def decide(files: list[RecordingFile], now: dt.datetime, free_bytes: int, policy: Policy) -> list[Deletion]:
    """What to delete, oldest first: every recording older than keep_days; then the oldest remaining
    ones while the recordings exceed max_total_bytes or the disk's free space is under min_free_bytes
    (each deletion counted as freed space). Recordings of calls in progress are never chosen, and
    when only they are left the limits may stay exceeded."""
    out: list[Deletion] = []
    done = [f for f in files if not f.in_progress]
    done.sort(key=lambda f: (f.modified, f.name))
    total = sum(f.size for f in files)
    free = free_bytes
    keep = []
    for f in done:
        if policy.keep_days and now - f.modified > dt.timedelta(days=policy.keep_days):
            out.append(Deletion(f, f"older than {policy.keep_days} days"))
            total -= f.size
            free += f.size
        else:
            keep.append(f)
    for f in keep:
        over_total = policy.max_total_bytes and total > policy.max_total_bytes
        under_free = policy.min_free_bytes and free < policy.min_free_bytes
        if not (over_total or under_free):
            break
        reason = (f"recordings over {policy.max_total_bytes // MB} MB" if over_total
                  else f"less than {policy.min_free_bytes // MB} MB free on the disk")
        out.append(Deletion(f, reason))
        total -= f.size
        free += f.size
    return out


class Retention:
    """Applies the stored configuration's policy to <data>/recordings; deletions are logged (source
    'recordings', the deletion log the web admin shows) and each call record loses its link."""

    def __init__(self, data_dir: Path, writer, clock=lambda: dt.datetime.now(dt.timezone.utc)):
        self.data_dir, self.writer, self.clock = Path(data_dir), writer, clock
        self.folder = self.data_dir / "recordings"
        self._lock = threading.Lock()  # the timer and a control command may ask at once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def policy(self) -> Policy:
        db = dbmod.open_read(self.data_dir)
        try:
            text = queries.current_config(db)
        finally:
            db.conn.close()
        return Policy.of(settings_mod.from_toml(text).recording) if text else Policy()

    def files(self) -> list[RecordingFile]:
        db = dbmod.open_read(self.data_dir)
        try:
            open_ids = {r[0] for r in db.execute("select id from calls where ended_at is null").fetchall()}
        finally:
            db.conn.close()
        out = {}
        # WAVs, and WebMs the encoder made of them (its mtime is a few seconds after the call's end);
        # one entry per call while both exist for a moment.
        for pattern in ("*.wav", "*.webm"):
            for path in self.folder.glob(pattern) if self.folder.is_dir() else ():
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue
                if path.stem in out:
                    continue
                out[path.stem] = RecordingFile(path.name, st.st_size,
                                               dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc),
                                               path.stem in open_ids)
        return list(out.values())

    def run(self, by: str = "retention") -> dict:
        """Apply the policy once; returns what was deleted."""
        with self._lock:
            policy = self.policy()
            if not policy.active:
                return {"deleted": 0, "bytes": 0, "message": "no retention limits are set (recording.keep_days, "
                                                             "max_total_mb, keep_free_mb)"}
            self.folder.mkdir(parents=True, exist_ok=True)
            chosen = decide(self.files(), self.clock(), shutil.disk_usage(self.folder).free, policy)
            freed = 0
            for d in chosen:
                path = self.folder / d.file.name
                size = recording_files.delete(path)  # the WAV, its WebM, the encoder's leftovers
                if size is None:
                    continue
                freed += size
                call_id = path.stem
                wav = f"{call_id}.wav"  # what the call record names, encoded or not
                self.writer.log("info", "recordings", f"deleted the recording of call {call_id} ({path.name}, "
                                                      f"{size} bytes) by {by}: {d.reason}")
                self.writer.submit(lambda db, p=str(self.folder / wav), name=wav, cid=call_id: db.execute(
                    "update calls set recording = null where id = ? and (recording = ? or recording like ?)",
                    [cid, p, "%/" + name]))
            self.writer.flush()
            return {"deleted": len(chosen), "bytes": freed,
                    "message": f"{len(chosen)} recording{'s' * (len(chosen) != 1)} deleted ({freed / MB:.1f} MB)"}

    # -- the engine's periodic run ----------------------------------------------------------------
    def start(self, interval_s: float = INTERVAL_S, first_s: float = FIRST_RUN_S) -> None:
        def loop():
            wait = first_s
            while not self._stop.wait(wait):
                wait = interval_s
                try:
                    result = self.run()
                    if result["deleted"]:
                        log.info("retention: %s", result["message"])
                except Exception:  # a bad pass is logged and the next one tries again
                    log.exception("retention pass failed")

        self._thread = threading.Thread(target=loop, name="retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
