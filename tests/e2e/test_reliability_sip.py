"""Short versions of `make reliability`'s hostile-SIP checks against a real engine: the corpus of
broken messages, the seeded fuzzer, CANCEL races, misbehaving SIPp peers and a scanner. After each
batch the engine must be alive, answer OPTIONS and `switchboard status`, hold no call state and take
a new call. Figures are printed (pytest -s), never asserted."""

from __future__ import annotations

import pytest

from reliability import hostile, scanner
from reliability.engine import Engine, box
from reliability.health import EngineHealth


@pytest.fixture
def engine(tmp_path):
    e = Engine(tmp_path, box()).start()
    yield e
    code = e.stop()
    assert e.clean_log(), e.log()[-3000:]
    assert code == 0, e.log()[-3000:]


def held(report) -> str:
    print(report.text())
    return report.text()


@pytest.mark.long(35)
def test_the_corpus_of_broken_messages_from_a_stranger_and_from_a_line(engine):
    report = hostile.corpus_batch(EngineHealth(engine).target, EngineHealth(engine))
    assert report.ok, held(report)
    assert report.tried["messages sent"] >= 2 * 95
    stranger = report.figures["answers from a stranger's address (status: count)"]
    assert stranger.get("403", 0) > 20  # the INVITEs that parse are refused by the access check
    assert report.figures["calls the corpus made from a line's address (answered, then hung up)"] > 10


def test_the_seeded_fuzzer_and_cancel_races(engine):
    health = EngineHealth(engine)
    fuzz = hostile.fuzz_batch(health.target, health, count=150, seed=11)
    assert fuzz.ok, held(fuzz)
    races = hostile.cancel_race(health.target, health, count=4)
    assert races.ok, held(races)
    assert sum(races.figures["outcomes"].values()) == 4


@pytest.mark.long(65)
def test_answers_never_acknowledged_do_not_pin_call_slots(engine):
    health = EngineHealth(engine)
    report = hostile.unacknowledged_answers(health.target, health)
    assert report.ok, held(report)
    assert report.figures["answers to the 500-Via INVITEs (status: count)"] == {"513": 4}


def test_misbehaving_sipp_peers(engine, tmp_path):
    report = hostile.sipp_batch(EngineHealth(engine).target, EngineHealth(engine), tmp_path / "sipp")
    assert report.ok, held(report)


def test_a_scanner_is_refused_every_time_and_seizes_nothing(engine):
    # Paced at 20 INVITEs a second: faster, the PyPI wheel's pjsua2 aborts (see README, Reliability).
    report = scanner.scan(engine, EngineHealth(engine), attempts=200, rate=20)
    assert report.ok, held(report)
    assert report.figures["answers (status: count)"] == {"403": 200}
    assert report.figures["call records written for the scan"] == 200
