"""Read-only queries over the store, shared by the CLI and the web admin."""

from __future__ import annotations

import sqlite_utils

CALL_FIELDS = ("id", "line", "caller_id", "caller_name", "dialled", "started_at", "queue", "operator",
               "wait_s", "talk_s", "disposition", "end_reason", "recording", "connected_at", "ended_at")


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


def _has(db: sqlite_utils.Database, table: str) -> bool:
    return db.execute("select 1 from sqlite_master where type='table' and name=?", [table]).fetchone() is not None


def log_of(db: sqlite_utils.Database, source: str, limit: int = 50) -> list[dict]:
    """The newest log entries of one source (e.g. 'recordings': the deletion log)."""
    sql = "select at, level, source, message from log where source = ? order by id desc limit ?"
    return [dict(r) for r in db.execute(sql, [source, limit]).fetchall()] if _has(db, "log") else []
