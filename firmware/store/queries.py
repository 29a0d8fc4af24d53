"""Read-only queries over the store, shared by the CLI and the web admin."""

from __future__ import annotations

import sqlite_utils

CALL_FIELDS = ("id", "line", "caller_id", "caller_name", "dialled", "started_at", "queue", "operator",
               "wait_s", "talk_s", "disposition", "end_reason", "recording", "connected_at", "ended_at",
               "direction", "callback_of")


def recent_calls(db: sqlite_utils.Database, limit: int = 20) -> list[dict]:
    sql = f"select {', '.join(CALL_FIELDS)} from calls order by started_at desc, rowid desc limit ?"
    return [dict(r) for r in db.execute(sql, [limit]).fetchall()] if _has(db, "calls") else []


def call(db: sqlite_utils.Database, call_id: str) -> dict | None:
    rows = db.execute("select * from calls where id = ?", [call_id]).fetchall()
    return dict(rows[0]) if rows else None


def queue_events(db: sqlite_utils.Database, call_id: str) -> list[dict]:
    sql = "select at, queue, event, operator, detail from queue_events where call_id = ? order by id"
    return [dict(r) for r in db.execute(sql, [call_id]).fetchall()]


def operator_log(db: sqlite_utils.Database, operator: str | None = None, limit: int = 100) -> list[dict]:
    where, args = ("where operator = ?", [operator]) if operator else ("", [])
    sql = f"select at, operator, state, reason, call_id from operator_log {where} order by id desc limit ?"
    return [dict(r) for r in db.execute(sql, args + [limit]).fetchall()]


def current_config(db: sqlite_utils.Database) -> str | None:
    if not _has(db, "config"):
        return None
    row = db.execute("select toml from config order by id desc limit 1").fetchone()
    return row[0] if row else None


def state(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("select value from state where key = ?", [key]).fetchone() if _has(db, "state") else None
    return row[0] if row else default


def log_entries(db: sqlite_utils.Database, limit: int = 50) -> list[dict]:
    sql = "select at, level, source, message from log order by id desc limit ?"
    return [dict(r) for r in db.execute(sql, [limit]).fetchall()]


def worklist(db: sqlite_utils.Database, include_handled: bool = False, limit: int = 500) -> list[dict]:
    """Callers not served yet, most recent first (with `include_handled`, the closed ones too)."""
    if not _has(db, "worklist"):
        return []
    where = "" if include_handled else "where handled_at is null"
    sql = f"select * from worklist {where} order by at desc limit ?"
    return [dict(r) for r in db.execute(sql, [limit]).fetchall()]


def messages(db: sqlite_utils.Database, include_handled: bool = False, limit: int = 500) -> list[dict]:
    """Voicemail messages, newest first."""
    if not _has(db, "messages"):
        return []
    where = "" if include_handled else "where handled_at is null"
    sql = f"select * from messages {where} order by at desc, id desc limit ?"
    return [dict(r) for r in db.execute(sql, [limit]).fetchall()]


def unheard_messages(db: sqlite_utils.Database) -> int:
    if not _has(db, "messages"):
        return 0
    return db.execute("select count(*) from messages where heard_at is null and handled_at is null").fetchone()[0]


def message(db: sqlite_utils.Database, message_id: int) -> dict | None:
    rows = db.execute("select * from messages where id = ?", [message_id]).fetchall() if _has(db, "messages") else []
    return dict(rows[0]) if rows else None


def pending_callbacks(db: sqlite_utils.Database) -> list[dict]:
    """Callbacks still to be made, in the order they were asked for (the engine reloads them)."""
    if not _has(db, "callbacks"):
        return []
    sql = "select * from callbacks where status = 'pending' order by requested_at, id"
    return [dict(r) for r in db.execute(sql).fetchall()]


def callbacks(db: sqlite_utils.Database, limit: int = 100) -> list[dict]:
    if not _has(db, "callbacks"):
        return []
    return [dict(r) for r in db.execute("select * from callbacks order by requested_at desc limit ?",
                                        [limit]).fetchall()]


def _has(db: sqlite_utils.Database, table: str) -> bool:
    return db.execute("select 1 from sqlite_master where type='table' and name=?", [table]).fetchone() is not None
