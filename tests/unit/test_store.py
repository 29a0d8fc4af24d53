import logging
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

from firmware.store import db as dbmod, queries, recordings
from firmware.store.writer import Writer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def writer(tmp_path):
    w = Writer(tmp_path)
    yield w
    w.close()


def call_row(call_id, **fields):
    return {"id": call_id, "line": "sip", "caller_id": "+4930123", "started_at": "2024-01-15T09:00:00.000+00:00",
            **fields}


# --- migrations -----------------------------------------------------------------------------------

def test_migrations_create_the_schema_on_a_fresh_directory(tmp_path):
    db = dbmod.open_write(tmp_path)
    assert {"config", "state", "calls", "queue_events", "operator_log", "log", "callbacks", "messages",
            "worklist"} <= set(db.table_names())
    applied = [m.name for m in dbmod.migrations.applied(db)]
    assert applied[:2] == ["m001_initial", "m002_callbacks_voicemail_worklist"]
    assert dbmod.migrations.pending(db) == []
    db.conn.close()


def test_reopening_applies_nothing_again_and_keeps_the_data(tmp_path):
    db = dbmod.open_write(tmp_path)
    db["state"].insert({"key": "k", "value": "v"})
    db.conn.close()
    db = dbmod.open_write(tmp_path)
    assert db.execute("select count(*) from _sqlite_migrations").fetchone()[0] == len(dbmod.migrations._migrations)
    assert db["state"].get("k")["value"] == "v"
    db.conn.close()


def test_wal_mode_is_on(tmp_path):
    dbmod.open_write(tmp_path).conn.close()
    assert dbmod.open_read(tmp_path).execute("pragma journal_mode").fetchone()[0] == "wal"


def test_read_connection_is_read_only(writer, tmp_path):
    writer.flush()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        dbmod.open_read(tmp_path).execute("insert into state (key, value) values ('a', 'b')")


def test_open_read_without_a_database_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no database"):
        dbmod.open_read(tmp_path)


# --- the writer -----------------------------------------------------------------------------------

def test_writer_records_are_visible_to_readers_after_flush(writer, tmp_path):
    writer.call_started(call_row("c1"))
    writer.call_updated("c1", queue="front-desk", operator="st1", wait_s=3.5)
    writer.queue_event("c1", "front-desk", "joined")
    writer.queue_event("c1", "front-desk", "connected", operator="st1", detail="after 1 ring")
    writer.operator_state("st1", "paused", reason="lunch", call_id="c1")
    writer.log("warning", "sip", "INVITE from 10.9.9.9 refused")
    writer.set_state("hours_override", "night")
    writer.set_state("hours_override", "day")
    writer.save_config("[sip]\nport = 5060\n", "test")
    writer.flush()

    db = dbmod.open_read(tmp_path)
    call = queries.call(db, "c1")
    assert (call["caller_id"], call["queue"], call["operator"], call["wait_s"]) == ("+4930123", "front-desk", "st1", 3.5)
    assert [r["id"] for r in queries.recent_calls(db)] == ["c1"]
    assert [(e["event"], e["operator"], e["detail"]) for e in queries.queue_events(db, "c1")] == \
        [("joined", None, ""), ("connected", "st1", "after 1 ring")]
    [entry] = queries.operator_log(db, "st1")
    assert (entry["state"], entry["reason"], entry["call_id"]) == ("paused", "lunch", "c1")
    assert [(r["level"], r["message"]) for r in queries.log_entries(db)] == [("warning", "INVITE from 10.9.9.9 refused")]
    assert queries.state(db, "hours_override") == "day"
    assert queries.state(db, "missing", "auto") == "auto"
    assert queries.current_config(db) == "[sip]\nport = 5060\n"


def test_latest_config_wins(writer, tmp_path):
    writer.save_config("a = 1\n", "first")
    writer.save_config("a = 2\n", "second")
    assert queries.current_config(dbmod.open_read(tmp_path)) == "a = 2\n"


def test_recent_calls_are_newest_first_and_limited(writer, tmp_path):
    for i, hour in enumerate([9, 11, 10]):
        writer.call_started(call_row(f"c{i}", started_at=f"2024-01-15T{hour:02}:00:00.000+00:00"))
    writer.flush()
    assert [r["id"] for r in queries.recent_calls(dbmod.open_read(tmp_path), limit=2)] == ["c1", "c2"]


def test_close_interrupted_calls(writer, tmp_path):
    writer.call_started(call_row("done", ended_at="2024-01-15T09:05:00.000+00:00", disposition="answered"))
    writer.call_started(call_row("open1"))
    writer.call_started(call_row("open2"))
    closed = writer.close_interrupted_calls(
        lambda row: {"ended_at": "2024-01-15T10:00:00.000+00:00", "disposition": "interrupted",
                     "end_reason": f"engine stopped during {row['id']}"})
    assert closed == 2
    db = dbmod.open_read(tmp_path)
    assert queries.call(db, "done")["disposition"] == "answered"
    assert queries.call(db, "open2")["disposition"] == "interrupted"
    assert queries.call(db, "open2")["end_reason"] == "engine stopped during open2"
    assert writer.close_interrupted_calls(lambda row: {"disposition": "x"}) == 0


def test_a_failed_write_is_logged_and_the_writer_goes_on(writer, tmp_path, caplog):
    writer.call_started(call_row("c1", caller_id="first"))
    with caplog.at_level(logging.ERROR, logger="firmware.store.writer"):
        writer.call_started(call_row("c1", caller_id="duplicate"))
        writer.call_started(call_row("c2"))
        writer.flush()
    assert any(r.message == "store write failed" and r.exc_info[0] is sqlite3.IntegrityError for r in caplog.records)
    db = dbmod.open_read(tmp_path)
    assert queries.call(db, "c1")["caller_id"] == "first"
    assert queries.call(db, "c2") is not None


def test_a_failed_waited_write_raises_in_the_caller(writer):
    def bad(db):
        db["no_such_table"].update("x", {"a": 1})
    with pytest.raises(Exception):
        writer.submit(bad, wait=True)
    assert writer.submit(lambda db: db.execute("select 41 + 1").fetchone()[0], wait=True) == 42


def test_a_job_is_one_transaction(writer, tmp_path):
    def half_then_fail(db):
        db["state"].insert({"key": "half", "value": "written"})
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        writer.submit(half_then_fail, wait=True)
    assert queries.state(dbmod.open_read(tmp_path), "half") is None


WRITER_LOOP = """
import sys
from firmware.store.writer import Writer
w = Writer(sys.argv[1])
i = 0
while True:
    w.call_started({"id": f"c{i}", "started_at": "2024-01-15T09:00:00.000+00:00", "caller_id": "x" * 500})
    w.queue_event(f"c{i}", "front-desk", "joined")
    w.flush()
    print(i, flush=True)
    i += 1
"""


def test_killing_a_writing_process_loses_nothing_committed(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER_LOOP, str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = [proc.stdout.readline() for _ in range(40)]
        time.sleep(0.05)  # let it get into the middle of more writes
    finally:
        proc.send_signal(signal.SIGKILL)
        rest, errors = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL, errors
    committed = [int(line) for line in seen + rest.splitlines() if line.strip()]
    assert len(committed) >= 40, errors

    conn = sqlite3.connect(dbmod.path_in(tmp_path))
    assert conn.execute("pragma integrity_check").fetchall() == [("ok",)]
    conn.close()
    db = dbmod.open_read(tmp_path)
    calls = {r[0] for r in db.execute("select id from calls")}
    joined = {r[0] for r in db.execute("select call_id from queue_events")}
    expected = {f"c{i}" for i in committed}
    assert committed == list(range(len(committed)))
    assert expected <= calls and expected <= joined


# --- recordings -----------------------------------------------------------------------------------

def make_wav(path, frames, rate=8000):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x01\x02" * frames)
    return path


def zero_sizes(path):
    """Leave the header as a killed writer does: RIFF and data sizes 0 (44-byte header of `wave`)."""
    data = bytearray(Path(path).read_bytes())
    assert data[36:40] == b"data"
    data[4:8] = data[40:44] = struct.pack("<I", 0)
    Path(path).write_bytes(data)


def frames_in(path):
    with wave.open(str(path), "rb") as w:
        return w.getnframes()


def test_repair_mends_a_wav_left_open(tmp_path):
    path = make_wav(tmp_path / "c1.wav", 12345)
    good = path.read_bytes()
    zero_sizes(path)
    with pytest.raises(wave.Error):
        frames_in(path)
    assert recordings.repair(path) is True
    assert frames_in(path) == 12345
    assert path.read_bytes() == good
    assert recordings.repair(path) is False


def test_repair_leaves_a_good_wav_untouched(tmp_path):
    path = make_wav(tmp_path / "c1.wav", 8000)
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert recordings.repair(path) is False
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def test_repair_finds_the_data_chunk_after_other_chunks(tmp_path):
    pcm = b"\x00\x01" * 100
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    extra = b"ISFTabc"  # odd length: padded to an even size
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"LIST" + struct.pack("<I", len(extra)) + extra + b"\x00"
            + b"data" + struct.pack("<I", 0) + pcm)
    path = tmp_path / "c2.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", 0) + body)
    assert recordings.repair(path) is True
    assert frames_in(path) == 100
    assert struct.unpack("<I", path.read_bytes()[4:8])[0] == path.stat().st_size - 8


def test_repair_ignores_files_that_are_not_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_bytes(b"not a wav file at all")
    assert recordings.repair(path) is False
    assert path.read_bytes() == b"not a wav file at all"


def test_repair_all_mends_only_the_broken_ones(tmp_path, caplog):
    make_wav(recordings.path_for(tmp_path, "good"), 800)
    zero_sizes(make_wav(recordings.path_for(tmp_path, "broken"), 800))
    with caplog.at_level(logging.WARNING, logger="firmware.store.recordings"):
        repaired = recordings.repair_all(tmp_path)
    assert [p.name for p in repaired] == ["broken.wav"]
    assert "broken.wav" in caplog.text
    assert frames_in(recordings.path_for(tmp_path, "broken")) == 800


def test_path_for_is_in_the_recordings_folder(tmp_path):
    path = recordings.path_for(tmp_path, "c42")
    assert path == tmp_path / "recordings" / "c42.wav" and path.parent.is_dir()


def test_duration_from_the_file_size(tmp_path):
    assert recordings.duration_s(make_wav(tmp_path / "a.wav", 8000)) == 1.0
    assert recordings.duration_s(make_wav(tmp_path / "b.wav", 20000)) == 2.5
    broken = make_wav(tmp_path / "c.wav", 4000)
    zero_sizes(broken)
    assert recordings.duration_s(broken) == 0.5
    (tmp_path / "d.wav").write_bytes(b"RIFF")
    assert recordings.duration_s(tmp_path / "d.wav") == 0
