"""The store writer on a full disk: fire-and-forget writes are held in order and written once space
is back; a write someone waits for fails at once with the error."""

from __future__ import annotations

import sqlite3
import time

import pytest

from firmware.store import db as dbmod
from firmware.store import writer as writer_mod
from firmware.store.writer import Writer


def test_writes_held_while_the_disk_is_full_are_written_in_order_once_space_is_back(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_mod, "RETRY_S", 0.05)
    w = Writer(tmp_path)
    full = {"on": True}

    def guarded(row):
        def job(db):
            if full["on"]:
                raise sqlite3.OperationalError("database or disk is full")
            db["log"].insert(row)
        return job

    try:
        for n in range(3):
            w.submit(guarded({"at": str(n), "level": "info", "source": "t", "message": f"m{n}"}))
        with pytest.raises(sqlite3.OperationalError, match="full"):
            w.submit(lambda db: db["state"].upsert({"key": "k", "value": "v"}, pk="key"), wait=True, timeout=5)
        full["on"] = False
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            rows = [r["message"] for r in dbmod.open_read(tmp_path)["log"].rows_where(order_by="id")]
            if len(rows) == 3:
                break
            time.sleep(0.05)
        assert rows == ["m0", "m1", "m2"]
        w.flush()
    finally:
        w.close()
