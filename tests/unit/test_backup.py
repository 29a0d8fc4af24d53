"""Backups: made from a live store, checked completely before a restore (format, version, database,
configuration), staged, and swapped in whole at the next start."""

from __future__ import annotations

import json
import sqlite3
import zipfile

import pytest

from firmware import settings as settings_mod
from firmware.store import backup, db as dbmod, queries
from firmware.store.writer import Writer


@pytest.fixture
def data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    writer = Writer(data)
    uploads = data / "prompt-uploads"
    uploads.mkdir()
    (uploads / "abc.wav").write_bytes(b"RIFF-upload")
    config = {"prompts": {"hello": {"file": str(uploads / "abc.wav")}}}
    writer.save_config(settings_mod.to_toml(settings_mod.from_dict(config)), "test")
    writer.call_started({"id": "c1", "started_at": "2026-01-01T10:00:00.000+00:00"})
    writer.flush()
    yield data, writer
    writer.close()


def rewrite(src, dst, change) -> None:
    """A copy of the backup ZIP with `change(name, bytes) -> bytes | None` applied to each member."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)


def test_a_backup_holds_a_consistent_snapshot_and_passes_its_check(data, tmp_path):
    data_dir, writer = data
    out = tmp_path / "b.zip"
    manifest = backup.make(data_dir, out, "9.9")
    assert manifest["format_version"] == 1 and manifest["config_id"] == 1
    assert manifest["migrations"] == ["m001_initial", "m002_web_indexes"] == backup.known_migrations()
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["config.toml", "manifest.json", "prompt-uploads/abc.wav", "switchboard.db"]
        assert "hello" in z.read("config.toml").decode()
    assert backup.check(out, data_dir)["app_version"] == "9.9"


@pytest.mark.parametrize("change, reason", [
    (lambda n, b: b"garbage" if n == "switchboard.db" else b, "not readable"),
    (lambda n, b: None if n == "switchboard.db" else b, "switchboard.db missing"),
    (lambda n, b: json.dumps({**json.loads(b), "format_version": 2}).encode() if n == "manifest.json" else b,
     "format version 2"),
    (lambda n, b: json.dumps({**json.loads(b), "migrations": ["m001_initial", "m099_future"]}).encode()
     if n == "manifest.json" else b, "newer Switchboard"),
    (lambda n, b: b"[sip]\nport = 99999\n" if n == "config.toml" else b, "sip.port = 99999"),
    (lambda n, b: None if n.startswith("prompt-uploads/") else b, "abc.wav is not in the backup"),
])
def test_a_broken_or_foreign_backup_is_refused_with_the_reason(data, tmp_path, change, reason):
    data_dir, _ = data
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    backup.make(data_dir, good, "1")
    rewrite(good, bad, change)
    with pytest.raises(backup.BackupError) as exc:
        backup.check(bad, data_dir)
    assert any(reason in p for p in exc.value.problems), exc.value.problems


def test_not_a_zip_and_a_truncated_one(data, tmp_path):
    data_dir, _ = data
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"hello")
    with pytest.raises(backup.BackupError, match="not a ZIP"):
        backup.check(junk, data_dir)
    good = tmp_path / "good.zip"
    backup.make(data_dir, good, "1")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(backup.BackupError):
        backup.check(cut, data_dir)
    assert not (data_dir / "restore" / "pending").exists()


def test_stage_then_apply_swaps_the_whole_store_and_keeps_the_previous(data, tmp_path):
    data_dir, writer = data
    out = tmp_path / "b.zip"
    backup.make(data_dir, out, "1")
    writer.call_started({"id": "c2", "started_at": "2026-01-02T10:00:00.000+00:00"})
    writer.flush()
    writer.close()
    (data_dir / "prompt-uploads" / "abc.wav").unlink()
    backup.stage(out, data_dir)
    assert backup.apply_pending(data_dir)["config_id"] == 1
    db = dbmod.open_read(data_dir)
    assert queries.call(db, "c1") and queries.call(db, "c2") is None
    assert (data_dir / "prompt-uploads" / "abc.wav").read_bytes() == b"RIFF-upload"
    previous = next((data_dir / "restore").glob("previous-*"))
    assert queries.call(dbmod.open_read(previous), "c2")  # the database before the restore, kept aside
    assert backup.apply_pending(data_dir) is None  # done once
    Writer(data_dir).close()  # the restored store opens for writing
