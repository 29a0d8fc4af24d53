"""Short versions of `make reliability`'s fault checks: the engine killed with calls up, a power cut
on the database, the disk filling during a recorded call. Each asserts what must hold; its figures are
printed (pytest -s), never asserted. (A modem unplugged mid-call: tests/e2e/test_modem_line.py, and
with figures in `make reliability`.)"""

from __future__ import annotations

from reliability import diskfull, killrestart, powercut


def held(report) -> str:
    print(report.text())
    return report.text()


def test_engine_killed_with_three_calls_up_then_restarted(tmp_path):
    report = killrestart.kill_and_restart(tmp_path, calls=3, rounds=1)
    assert report.ok, held(report)
    assert sum(1 for k in report.held if k.endswith("caller's tone in the recording")) == 3


def test_database_killed_during_writes_loses_no_committed_record(tmp_path):
    report = powercut.run(tmp_path, kills=8, seed=3)
    assert report.ok, held(report)


def test_disk_filling_during_a_call_stops_the_recording_cleanly_and_alerts(tmp_path):
    report = diskfull.run(tmp_path / "gradual", talk_s=12)
    assert report.ok, held(report)


def test_disk_filled_at_once_during_a_call(tmp_path):
    report = diskfull.run(tmp_path / "abrupt", talk_s=10, abrupt=True)
    assert report.ok, held(report)

