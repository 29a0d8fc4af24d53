"""Opening the database and its schema, kept by migrations. WAL; every write goes through `Writer`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

DB_NAME = "switchboard.db"
migrations = Migrations("switchboard")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["config"].create({"id": int, "saved_at": str, "source": str, "toml": str}, pk="id", strict=True)
    db["state"].create({"key": str, "value": str}, pk="key", strict=True)
    db["calls"].create({
        "id": str, "line": str, "caller_id": str, "caller_name": str, "dialled": str,
        "source_ip": str, "started_at": str, "queue": str, "operator": str, "queued_at": str,
        "connected_at": str, "ended_at": str, "wait_s": float, "talk_s": float,
        "disposition": str, "end_reason": str, "recording": str, "path": str,
    }, pk="id", strict=True, not_null={"started_at"})
    db["calls"].create_index(["started_at"])
    db["calls"].create_index(["caller_id"])
    db["queue_events"].create({
        "id": int, "at": str, "call_id": str, "queue": str, "event": str, "operator": str, "detail": str,
    }, pk="id", strict=True)
    db["queue_events"].create_index(["call_id"])
    db["queue_events"].create_index(["at"])
    db["operator_log"].create({
        "id": int, "at": str, "operator": str, "state": str, "reason": str, "call_id": str,
    }, pk="id", strict=True)
    db["operator_log"].create_index(["operator", "at"])
    db["log"].create({"id": int, "at": str, "level": str, "source": str, "message": str}, pk="id",
                     strict=True)
    db["log"].create_index(["at"])


@migrations()
def m002_callbacks_voicemail_worklist(db: sqlite_utils.Database) -> None:
    # direction: "in" (a customer called) or "callback" (the box called a customer back)
    db["calls"].add_column("direction", str)
    db["calls"].add_column("callback_of", str)
    db["callbacks"].create({
        "id": str, "call_id": str, "queue": str, "number": str, "requested_at": str, "priority": int,
        "attempts": int, "next_at": str, "status": str, "result": str, "updated_at": str,
    }, pk="id", strict=True, not_null={"call_id", "queue", "number", "requested_at", "status"})
    db["callbacks"].create_index(["status"])
    db["messages"].create({
        "id": int, "call_id": str, "mailbox": str, "caller_id": str, "at": str, "seconds": float,
        "path": str, "heard_at": str, "handled_at": str,
    }, pk="id", strict=True, not_null={"mailbox", "at", "path"})
    db["messages"].create_index(["handled_at"])
    db["worklist"].create({
        "number": str, "caller_name": str, "reason": str, "first_at": str, "at": str, "attempts": int,
        "call_id": str, "handled_at": str, "handled_by": str,
    }, pk="number", strict=True, not_null={"reason", "at"})
    db["worklist"].create_index(["handled_at"])


def path_in(data_dir: Path) -> Path:
    return Path(data_dir) / DB_NAME


def open_write(data_dir: Path) -> sqlite_utils.Database:
    """The one read-write connection (the writer's), with the schema brought up to date."""
    conn = sqlite3.connect(path_in(data_dir), check_same_thread=False, isolation_level=None)
    db = sqlite_utils.Database(conn)
    db.enable_wal()
    # FULL: a commit survives a power cut, not just a killed process; the write rate is small.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    migrations.apply(db)
    return db


def open_read(data_dir: Path) -> sqlite_utils.Database:
    """A read-only connection for queries (the CLI, the web admin)."""
    path = path_in(data_dir)
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}: has the engine ever run with this data directory?")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.row_factory = sqlite3.Row
    return sqlite_utils.Database(conn)
