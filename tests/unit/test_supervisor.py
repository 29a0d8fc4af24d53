"""`switchboard run`'s supervision decisions (firmware/supervisor.py decide): restart as systemd's
Restart=on-failure would, stop when asked, give up on a crash loop."""

from __future__ import annotations

import signal
from pathlib import Path

from firmware.supervisor import (RESTART_DELAY_S, RESTART_EXIT, START_LIMIT, START_LIMIT_INTERVAL_S, Exit, History,
                                 decide, engine_command)


def ready_history(starts=(0.0,)) -> History:
    return History(starts=list(starts), ever_ready=True)


def test_a_requested_restart_starts_the_engine_again_at_once():
    d = decide(Exit(RESTART_EXIT, was_ready=True, stopping=False), ready_history(), now=10.0)
    assert d.restart and d.delay_s == 0 and "asked for a restart" in d.reason


def test_a_crash_after_ready_is_restarted_after_a_delay():
    d = decide(Exit(-signal.SIGABRT, was_ready=True, stopping=False), ready_history(), now=10.0)
    assert d.restart and d.delay_s == RESTART_DELAY_S and "killed by SIGABRT" in d.reason


def test_a_restarted_engine_that_fails_before_ready_is_tried_again():
    d = decide(Exit(1, was_ready=False, stopping=False), ready_history(), now=10.0)
    assert d.restart


def test_the_first_start_failing_stops_with_its_code():
    d = decide(Exit(2, was_ready=False, stopping=False), History(starts=[0.0]), now=1.0)
    assert not d.restart and d.exit_code == 2 and "did not start" in d.reason
    d = decide(Exit(-signal.SIGSEGV, was_ready=False, stopping=False), History(starts=[0.0]), now=1.0)
    assert not d.restart and d.exit_code == 128 + signal.SIGSEGV


def test_stopping_never_restarts_and_a_clean_stop_is_0():
    for code in (0, -signal.SIGINT, -signal.SIGTERM, RESTART_EXIT):
        d = decide(Exit(code, was_ready=True, stopping=True), ready_history(), now=10.0)
        assert not d.restart
        assert d.exit_code == (RESTART_EXIT if code == RESTART_EXIT else 0)


def test_an_engine_that_ends_by_itself_with_0_is_not_restarted():
    d = decide(Exit(0, was_ready=True, stopping=False), ready_history(), now=10.0)
    assert not d.restart and d.exit_code == 0


def test_a_crash_loop_is_given_up():
    starts = [float(i) for i in range(START_LIMIT)]
    d = decide(Exit(1, was_ready=True, stopping=False), ready_history(starts), now=float(START_LIMIT))
    assert not d.restart and d.exit_code == 1 and "giving up" in d.reason
    # The same number of starts spread wider than the interval is no loop.
    spread = [i * START_LIMIT_INTERVAL_S for i in range(START_LIMIT)]
    assert decide(Exit(1, True, False), ready_history(spread), now=spread[-1] + 1).restart


def test_the_engine_of_the_current_release_when_there_is_one(tmp_path):
    argv = engine_command(tmp_path, sim=True, sip_port=5070, verbose=False)
    assert argv[1:] == ["-m", "firmware.cli", "--data-dir", str(tmp_path), "engine", "--sim", "--sip-port", "5070"]
    script = tmp_path / "releases" / "0.2.0-1" / "venv" / "bin" / "switchboard"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    (tmp_path / "releases" / "current").symlink_to("0.2.0-1")
    argv = engine_command(tmp_path, sim=False, sip_port=None, verbose=True)
    assert argv == [str(tmp_path / "releases" / "current" / "venv" / "bin" / "switchboard"),
                    "--data-dir", str(tmp_path), "-v", "engine"]
    assert Path(argv[0]).exists()
