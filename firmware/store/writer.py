"""The single SQLite writer: a thread that owns the write connection and takes work from a queue.

The engine loop never waits on the disk: it posts rows here and goes on. `flush()` waits until
everything posted so far is committed (shutdown, tests, and commands that must read their write).
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

import sqlite_utils

from firmware.store import db as dbmod
from firmware.timeutil import iso_now

log = logging.getLogger(__name__)


class Writer:
    def __init__(self, data_dir: Path):
        self._db = dbmod.open_write(data_dir)
        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    # -- the thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            fn, future = job
            try:
                with self._db.atomic():  # one transaction per job
                    result = fn(self._db)
                if future:
                    future.set_result(result)
            except Exception as exc:  # a failed write is logged, never kills the writer
                log.exception("store write failed")
                if future:
                    future.set_exception(exc)
        self._db.conn.close()

    def submit(self, fn: Callable[[sqlite_utils.Database], object], wait: bool = False, timeout: float = 10):
        future: Future | None = Future() if wait else None
        self._jobs.put((fn, future))
        return future.result(timeout) if future else None

    def flush(self, timeout: float = 10) -> None:
        self.submit(lambda db: None, wait=True, timeout=timeout)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    # -- the records ------------------------------------------------------------------------------
    def call_started(self, row: dict) -> None:
        self.submit(lambda db: db["calls"].insert(row))

    def call_updated(self, call_id: str, **fields) -> None:
        self.submit(lambda db: db["calls"].update(call_id, fields))

    def queue_event(self, call_id: str, queue_name: str, event: str, operator: str | None = None,
                    detail: str = "") -> None:
        row = {"at": iso_now(), "call_id": call_id, "queue": queue_name, "event": event,
               "operator": operator, "detail": detail}
        self.submit(lambda db: db["queue_events"].insert(row))

    def operator_state(self, operator: str, state: str, reason: str = "", call_id: str | None = None) -> None:
        row = {"at": iso_now(), "operator": operator, "state": state, "reason": reason, "call_id": call_id}
        self.submit(lambda db: db["operator_log"].insert(row))

    def log(self, level: str, source: str, message: str) -> None:
        row = {"at": iso_now(), "level": level, "source": source, "message": message}
        self.submit(lambda db: db["log"].insert(row))

    def save_config(self, toml: str, source: str) -> None:
        self.submit(lambda db: db["config"].insert({"saved_at": iso_now(), "source": source, "toml": toml}),
                    wait=True)

    def set_state(self, key: str, value: str) -> None:
        self.submit(lambda db: db["state"].upsert({"key": key, "value": value}, pk="key"))

    def callback_saved(self, row: dict) -> None:
        """A queue callback asked for, or its progress (attempts, next try, outcome)."""
        self.submit(lambda db: db["callbacks"].upsert({**row, "updated_at": iso_now()}, pk="id"))

    def message_saved(self, row: dict) -> None:
        self.submit(lambda db: db["messages"].insert(row))

    def message_marked(self, message_id: int, **fields) -> None:
        """heard_at / handled_at set, or the row deleted (fields == {}) after its file is removed."""
        if fields:
            self.submit(lambda db: db["messages"].update(message_id, fields), wait=True)
        else:
            self.submit(lambda db: db["messages"].delete(message_id), wait=True)

    def worklist_add(self, number: str, reason: str, call_id: str, caller_name: str = "") -> None:
        """A caller not served: once per number; a handled entry opens again."""
        def work(db):
            now = iso_now()
            rows = list(db["worklist"].rows_where("number = ?", [number]))
            old = rows[0] if rows and rows[0]["handled_at"] is None else None
            db["worklist"].upsert({
                "number": number, "caller_name": caller_name or (old or {}).get("caller_name") or "",
                "reason": reason, "first_at": old["first_at"] if old else now, "at": now,
                "attempts": old["attempts"] + 1 if old else 1, "call_id": call_id,
                "handled_at": None, "handled_by": None}, pk="number")
        self.submit(work)

    def worklist_handled(self, number: str, by: str, wait: bool = False) -> int:
        """Close a number's open entry (someone called back, or a later call was answered)."""
        def work(db):
            cur = db.execute("update worklist set handled_at = ?, handled_by = ? where number = ? and "
                             "handled_at is null", [iso_now(), by, number])
            return cur.rowcount
        return self.submit(work, wait=wait)

    def close_interrupted_calls(self, closer: Callable[[dict], dict]) -> int:
        """Give every call record left open by a crash its end, as `closer(row)` decides."""
        def work(db):
            rows = list(db["calls"].rows_where("ended_at is null"))
            for row in rows:
                db["calls"].update(row["id"], closer(row))
            return len(rows)
        return self.submit(work, wait=True)
