"""Backups of a box: its configuration and a consistent snapshot of its database (which holds every
saved configuration, the call records and the logs), plus the uploaded prompt recordings the
configuration names, in one versioned ZIP. Recordings are not included (they are large; download
them from the web admin).

Restoring is all or nothing: `check` validates a backup completely (format and version, an intact
SQLite file with the schema this software knows, a valid configuration) and `stage` puts it beside
the data; the engine then restarts and `apply_pending`, before anything opens the database, swaps the
staged files in with renames (the previous database is kept in <data>/restore/previous-*).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from pathlib import Path

from firmware.store import db as dbmod

FORMAT = "switchboard-backup"
FORMAT_VERSION = 1
MANIFEST, CONFIG, DATABASE, UPLOADS = "manifest.json", "config.toml", "switchboard.db", "prompt-uploads/"
MAX_BACKUP_BYTES = 2 * 1024**3
REQUIRED_TABLES = {"config", "calls", "queue_events", "operator_log", "log", "state"}


class BackupError(ValueError):
    """A backup that cannot be restored; `problems` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def known_migrations() -> list[str]:
    return [m.name for m in dbmod.migrations._migrations]  # sqlite-utils keeps the registered steps here


def make(data_dir: Path, out: Path, app_version: str) -> dict:
    """Write a backup of the box at `data_dir` to `out` (a ZIP); returns its manifest."""
    data_dir = Path(data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / DATABASE
        source = sqlite3.connect(f"file:{dbmod.path_in(data_dir)}?mode=ro", uri=True)
        target = sqlite3.connect(snapshot)
        try:
            source.backup(target)  # a consistent copy even while the engine writes
            row = target.execute("select id, toml from config order by id desc limit 1").fetchone()
            applied = [r[0] for r in target.execute("select name from _sqlite_migrations where migration_set = ? "
                                                    "order by rowid", [dbmod.migrations.name])]
        finally:
            source.close()
            target.close()
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "app_version": app_version,
                    "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "config_id": row[0] if row else None, "migrations": applied}
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(MANIFEST, json.dumps(manifest, indent=2) + "\n")
            z.writestr(CONFIG, row[1] if row else "")
            z.write(snapshot, DATABASE)
            uploads = data_dir / "prompt-uploads"
            for path in sorted(uploads.iterdir()) if uploads.is_dir() else ():
                if path.is_file() and not path.name.endswith(".part"):
                    z.write(path, UPLOADS + path.name)
    return manifest


def check(path: Path, data_dir: Path) -> dict:
    """Validate a backup file completely; returns its manifest or raises BackupError with every problem.
    `data_dir` is where it would be restored (uploaded prompts are named by their path there)."""
    from firmware import settings as settings_mod  # the engine's side only

    problems: list[str] = []
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError([f"not a Switchboard backup (not a ZIP file: {exc})"]) from None
    with z, tempfile.TemporaryDirectory() as tmp:
        names = set(z.namelist())
        missing = [n for n in (MANIFEST, CONFIG, DATABASE) if n not in names]
        if missing:
            raise BackupError([f"not a Switchboard backup: {', '.join(missing)} missing"])
        if any(n.startswith("/") or ".." in Path(n).parts for n in names):
            raise BackupError(["refused: the backup names files outside itself"])
        if sum(i.file_size for i in z.infolist()) > MAX_BACKUP_BYTES:
            raise BackupError(["refused: the backup unpacks to more than 2 GB"])
        try:
            manifest = json.loads(z.read(MANIFEST))
        except (ValueError, zipfile.BadZipFile) as exc:
            raise BackupError([f"its manifest is unreadable: {exc}"]) from None
        if manifest.get("format") != FORMAT:
            raise BackupError(["not a Switchboard backup (wrong format in its manifest)"])
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BackupError([f"backup format version {manifest.get('format_version')!r}; this box reads version "
                               f"{FORMAT_VERSION} only"])
        unknown = [m for m in manifest.get("migrations", []) if m not in known_migrations()]
        if unknown:
            problems.append(f"made by a newer Switchboard ({manifest.get('app_version')}): its database has "
                            f"schema steps this version does not know ({', '.join(unknown)})")
        try:
            z.extract(DATABASE, tmp)
            problems += _check_database(Path(tmp) / DATABASE, manifest)
            text = z.read(CONFIG).decode()
        except (zipfile.BadZipFile, OSError, UnicodeDecodeError, zlib.error) as exc:
            raise BackupError(problems + [f"the backup is damaged: {exc}"]) from None
        try:
            settings = settings_mod.from_toml(text) if text else None
        except settings_mod.SettingsError as exc:
            problems += [f"its configuration is refused: {k} = {v!r}: {r}" for k, v, r in exc.problems]
            settings = None
        uploads = {n for n in names if n.startswith(UPLOADS) and n != UPLOADS}
        for name, prompt in (settings.prompts.items() if settings else ()):
            if prompt.file and "prompt-uploads" in Path(prompt.file).parts:
                if UPLOADS + Path(prompt.file).name not in uploads:
                    problems.append(f"prompt {name}: its uploaded file {Path(prompt.file).name} is not in the backup")
    if problems:
        raise BackupError(problems)
    return manifest


def _check_database(path: Path, manifest: dict) -> list[str]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if conn.execute("pragma integrity_check").fetchone()[0] != "ok":
                return ["its database fails SQLite's integrity check"]
            tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
            if not REQUIRED_TABLES <= tables:
                return [f"its database lacks tables: {', '.join(sorted(REQUIRED_TABLES - tables))}"]
            row = conn.execute("select max(id) from config").fetchone()
            if manifest.get("config_id") is not None and row[0] != manifest["config_id"]:
                return ["its database and its manifest disagree (config id)"]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [f"its database is not readable: {exc}"]
    return []


def _pending(data_dir: Path) -> Path:
    return Path(data_dir) / "restore" / "pending"


def stage(path: Path, data_dir: Path) -> dict:
    """Check a backup and unpack it beside the data, to be swapped in at the next engine start."""
    manifest = check(path, data_dir)
    pending = _pending(data_dir)
    work = pending.with_name("pending.part")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name == DATABASE or (name.startswith(UPLOADS) and name != UPLOADS):
                z.extract(name, work)
    (work / MANIFEST).write_text(json.dumps(manifest))
    shutil.rmtree(pending, ignore_errors=True)
    os.replace(work, pending)  # only a complete staging is ever seen as pending
    return manifest


def apply_pending(data_dir: Path) -> dict | None:
    """Swap a staged backup in (before the database is opened): the current database and its WAL go to
    <data>/restore/previous-<time>/, the backup's database and prompt uploads take their place."""
    data_dir = Path(data_dir)
    pending = _pending(data_dir)
    if not (pending / MANIFEST).exists():
        return None
    manifest = json.loads((pending / MANIFEST).read_text())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    previous = data_dir / "restore" / f"previous-{stamp}"
    previous.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        current = data_dir / (dbmod.DB_NAME + suffix)
        if current.exists():
            os.replace(current, previous / current.name)
    uploads = data_dir / "prompt-uploads"
    uploads.mkdir(exist_ok=True)
    staged_uploads = pending / UPLOADS
    for path in staged_uploads.iterdir() if staged_uploads.is_dir() else ():
        os.replace(path, uploads / path.name)
    os.replace(pending / DATABASE, dbmod.path_in(data_dir))
    shutil.rmtree(pending)
    return {**manifest, "previous": str(previous)}
