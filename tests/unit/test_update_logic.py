"""The bundle manifest and the update's state machine (pure; also run on arm64 by the image smoke test)."""

from __future__ import annotations

import json

import pytest

from firmware.update import BundleError, Outcome, Step, check_python, parse_manifest, releases_to_prune

DIGEST = "ab" * 32


def manifest(**changes) -> str:
    data = {"format": 1, "product": "switchboard", "version": "0.2.0", "python": "3.11",
            "wheels": [{"name": "switchboard-0.2.0-py3-none-any.whl", "sha256": DIGEST, "size": 10}]}
    data.update(changes)
    return json.dumps(data)


def test_a_good_manifest_is_read():
    m = parse_manifest(manifest())
    assert m.version == "0.2.0" and m.wheels[0].sha256 == DIGEST and m.python == "3.11"
    assert parse_manifest(m.to_json()) == m


@pytest.mark.parametrize("text, reason", [
    ("not json", "not JSON"),
    (manifest(product="other"), "not a switchboard bundle"),
    (manifest(format=2), "bundle format 2"),
    (manifest(version="../x"), "bad version"),
    (manifest(wheels=[{"name": "../evil.whl", "sha256": DIGEST, "size": 1}]), "bad wheel name"),
    (manifest(wheels=[{"name": "switchboard-0.2.0-py3-none-any.whl", "sha256": "XY", "size": 1}]), "bad SHA-256"),
    (manifest(wheels=[{"name": "other-1.0-py3-none-any.whl", "sha256": DIGEST, "size": 1}]), "no switchboard 0.2.0 wheel"),
])
def test_bad_manifests_are_refused_with_the_reason(text, reason):
    with pytest.raises(BundleError, match=reason):
        parse_manifest(text)


def test_a_bundle_for_another_python_is_refused():
    with pytest.raises(BundleError, match="Python 3.13"):
        check_python(parse_manifest(manifest(python="3.13")), "3.11")


def test_the_update_moves_only_along_its_transitions():
    o = Outcome()
    for step in (Step.INSTALL, Step.SWITCH, Step.WAIT_READY, Step.ROLL_BACK, Step.ROLLED_BACK):
        o.go(step)
    assert o.history == ["verify", "install", "switch", "wait_ready", "roll_back"] and not o.ok
    with pytest.raises(RuntimeError):
        Outcome().go(Step.DONE)  # never "done" without having waited for the engine


def test_only_current_previous_and_factory_are_kept():
    names = ["0.1.0-1", "0.2.0-2", "0.3.0-3", "factory"]
    assert releases_to_prune(names, {"0.3.0-3", "0.2.0-2", "factory"}) == ["0.1.0-1"]


class FakeSystemctl:
    """`systemctl show` answers in turn; records every command."""

    def __init__(self, states: list[str]):
        self.states, self.commands = states, []

    def __call__(self, argv, **kw):
        import subprocess
        self.commands.append(argv)
        out = self.states.pop(0) if argv[1] == "show" and len(self.states) > 1 else (self.states[0] if argv[1] == "show" else "")
        return subprocess.CompletedProcess(argv, 0, out, "")


def test_systemd_readiness_counts_only_a_new_invocation():
    from firmware.update import SystemdEngine
    old = "ActiveState=active\nSubState=running\nInvocationID=aaa\n"
    starting = "ActiveState=activating\nSubState=start\nInvocationID=bbb\n"
    ready = "ActiveState=active\nSubState=running\nInvocationID=bbb\n"
    clock = iter(range(1000))
    fake = FakeSystemctl([old, old, starting, ready])
    engine = SystemdEngine(run=fake, sleep=lambda s: None, clock=lambda: next(clock))
    engine.restart()
    assert ["systemctl", "restart", "--no-block", "switchboard-engine.service"] in fake.commands
    assert engine.wait_ready(50)
    assert sum(c[1] == "show" for c in fake.commands) == 4  # the old instance's "active" was not taken


def test_systemd_readiness_times_out_when_the_engine_never_gets_ready():
    from firmware.update import SystemdEngine
    clock = iter(range(1000))
    fake = FakeSystemctl(["ActiveState=active\nSubState=running\nInvocationID=aaa\n",
                          "ActiveState=activating\nSubState=start\nInvocationID=bbb\n"])
    engine = SystemdEngine(run=fake, sleep=lambda s: None, clock=lambda: next(clock))
    engine.restart()
    assert not engine.wait_ready(10)


def test_a_boot_during_the_trial_goes_back_to_the_previous_release(tmp_path):
    import os
    from firmware.update import Releases
    venv = tmp_path / "factory-venv"
    venv.mkdir()
    releases = Releases(tmp_path / "data", fallback_venv=venv)
    releases.ensure_factory()
    (releases.root / "0.2.0-1" / "venv").mkdir(parents=True)
    releases.pending.write_text("factory")
    releases.set_link("current", "0.2.0-1")
    note = releases.recover_interrupted()
    assert "0.2.0-1 was cut short" in note and os.readlink(releases.root / "current") == "factory"
    assert releases.recover_interrupted() is None
