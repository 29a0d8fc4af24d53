"""Recording retention: the pure policy (what to delete by age and by disk use) and its application to
a real recordings folder and store (files deleted, each deletion logged, call records unlinked)."""

from __future__ import annotations

import datetime as dt
import os
import threading

from firmware import settings as settings_mod
from firmware.store import db as dbmod, queries
from firmware.store.retention import MB, Policy, RecordingFile, Retention, decide
from firmware.store.writer import Writer
from firmware.timeutil import iso

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


def rec(name: str, days_old: float, mb: float = 1, in_progress: bool = False) -> RecordingFile:
    return RecordingFile(f"{name}.wav", int(mb * MB), NOW - dt.timedelta(days=days_old), in_progress)


def names(deletions) -> list[str]:
    return [d.file.name.removesuffix(".wav") for d in deletions]


def test_no_limits_delete_nothing():
    assert decide([rec("a", 900, 500)], NOW, 0, Policy()) == []


def test_by_age_only_those_older_than_keep_days():
    files = [rec("new", 1), rec("edge", 29.9), rec("old", 31), rec("older", 400)]
    chosen = decide(files, NOW, 10**12, Policy(keep_days=30))
    assert names(chosen) == ["older", "old"] and chosen[0].reason == "older than 30 days"


def test_by_total_size_oldest_first_until_under_the_limit():
    files = [rec("d", 1, 3), rec("a", 4, 3), rec("c", 2, 3), rec("b", 3, 3)]  # 12 MB
    chosen = decide(files, NOW, 10**12, Policy(max_total_bytes=7 * MB))
    assert names(chosen) == ["a", "b"] and chosen[0].reason == "recordings over 7 MB"


def test_by_free_space_counting_what_each_deletion_frees():
    files = [rec("a", 3, 2), rec("b", 2, 2), rec("c", 1, 2)]
    chosen = decide(files, NOW, free_bytes=1 * MB, policy=Policy(min_free_bytes=4 * MB))
    assert names(chosen) == ["a", "b"] and "less than 4 MB free" in chosen[1].reason


def test_age_deletions_count_towards_the_size_limits():
    files = [rec("ancient", 100, 5), rec("a", 3, 2), rec("b", 1, 2)]
    assert names(decide(files, NOW, 10**12, Policy(keep_days=30, max_total_bytes=4 * MB))) == ["ancient"]


def test_a_call_in_progress_is_never_deleted_even_if_limits_stay_exceeded():
    files = [rec("live", 100, 50, in_progress=True), rec("a", 2, 1)]
    chosen = decide(files, NOW, 0, Policy(keep_days=1, max_total_bytes=1 * MB, min_free_bytes=100 * MB))
    assert names(chosen) == ["a"]


def test_policy_from_settings():
    recording = settings_mod.from_dict({"recording": {"keep_days": 90, "max_total_mb": 2000, "keep_free_mb": 500}}).recording
    assert Policy.of(recording) == Policy(90, 2000 * MB, 500 * MB) and Policy.of(recording).active
    assert not Policy.of(settings_mod.Settings().recording).active


def test_applied_to_a_folder_and_store(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    folder = data / "recordings"
    folder.mkdir()
    writer = Writer(data)
    try:
        writer.save_config(settings_mod.to_toml(settings_mod.from_dict({"recording": {"keep_days": 7}})), "test")
        for call_id, days_old, ended in (("old", 10, True), ("new", 1, True), ("live", 30, False)):
            path = folder / f"{call_id}.wav"
            path.write_bytes(b"RIFF" + bytes(1000))
            moment = (NOW - dt.timedelta(days=days_old)).timestamp()
            os.utime(path, (moment, moment))
            writer.call_started({"id": call_id, "started_at": iso(NOW - dt.timedelta(days=days_old)),
                                 "recording": str(path), "ended_at": iso(NOW) if ended else None})
        writer.flush()
        result = Retention(data, writer, clock=lambda: NOW).run(by="test")
        assert result["deleted"] == 1 and result["bytes"] == 1004
        assert sorted(p.name for p in folder.iterdir()) == ["live.wav", "new.wav"]
        db = dbmod.open_read(data)
        assert queries.call(db, "old")["recording"] is None and queries.call(db, "new")["recording"]
        logged = [r["message"] for r in queries.log_entries(db) if r["source"] == "recordings"]
        assert logged == ["deleted the recording of call old (old.wav, 1004 bytes) by test: older than 7 days"]
        assert Retention(data, writer, clock=lambda: NOW).run()["deleted"] == 0  # nothing more to do
    finally:
        writer.close()


def test_the_engine_timer_applies_it_by_itself(tmp_path):
    """Retention.start: the periodic pass the engine runs (here every 50 ms) deletes without being asked."""
    data = tmp_path / "data"
    (data / "recordings").mkdir(parents=True)
    writer = Writer(data)
    retention = Retention(data, writer, clock=lambda: NOW)
    try:
        writer.save_config(settings_mod.to_toml(settings_mod.from_dict({"recording": {"max_total_mb": 1}})), "test")
        for name, age in (("a", 3), ("b", 2)):
            path = data / "recordings" / f"{name}.wav"
            path.write_bytes(bytes(700_000))
            moment = (NOW - dt.timedelta(days=age)).timestamp()
            os.utime(path, (moment, moment))
        retention.start(interval_s=0.05, first_s=0.0)
        for _ in range(200):  # bounded: at most about 10 s
            if not (data / "recordings" / "a.wav").exists():
                break
            threading.Event().wait(0.05)
        assert sorted(p.name for p in (data / "recordings").iterdir()) == ["b.wav"]
    finally:
        retention.stop()
        writer.close()
    assert "recordings over 1 MB" in queries.log_of(dbmod.open_read(data), "recordings")[0]["message"]
