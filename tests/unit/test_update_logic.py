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
