"""The real headset path (drivers/audio discovery -> AlsaHeadsets -> pjsua2 ExtraAudioDevice), each run
in its own process through tests/contract/headset_probe.py.

- this interpreter's pjsua2, always: with the PyPI wheel (no sound devices) a present headset must
  end as "unavailable, and why", never as an aborted process.
- a from-source pjsua2 (ALSA): runs when SWITCHBOARD_SRC_PYTHON names an interpreter that has it
  (`make pjsua2` into a venv). The headset is an ALSA PCM of the alsa-lib `file` plugin declared in
  a private ~/.asoundrc (no sound hardware or kernel module needed); what the headset played is
  read back from its file. That device is not paced by a clock, so it plays far faster than real
  time with underrun silence in between: only what was played, and in which order, is checked.
- a bench box: SWITCHBOARD_TEST_HEADSET=<card id or USB port> opens the real USB headset on the
  machine's own /proc and /sys (a person listens for the ring tone).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drivers.audio.simulated import FakeCard, FakeSoundTree
from firmware.sim.analysis import segments
from firmware.telephony.stations import RING_HZ

ROOT = Path(__file__).resolve().parents[2]
SRC_PYTHON_ENV, BENCH_ENV = "SWITCHBOARD_SRC_PYTHON", "SWITCHBOARD_TEST_HEADSET"
PCM = "sbheadset"
ASOUNDRC = """
pcm.{name} {{
    type asym
    playback.pcm {{ type file; slave.pcm "null"; file "{played}"; format "raw" }}
    capture.pcm "null"
    hint {{ show on; description "switchboard test headset" }}
}}
"""


def probe(python: str, tree: Path, identity: str, home: Path | None = None, played: Path | None = None,
          extra: tuple[str, ...] = ()) -> dict:
    env = {**os.environ, **({"HOME": str(home)} if home else {})}
    argv = [python, "-m", "tests.contract.headset_probe", "--root", str(tree), "--identity", identity, *extra]
    result = subprocess.run(argv + (["--played", str(played)] if played else []), cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"probe exited {result.returncode}:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def heard(raw: np.ndarray) -> list:
    """Tones in what the headset played, with the free-running device's silent frames left out."""
    frames = raw[: len(raw) // 160 * 160].reshape(-1, 160)
    sound = frames[np.abs(frames).max(axis=1) > 0].reshape(-1).astype(float) / 32768
    return [(s.kind, round(s.freq_hz or 0)) for s in segments(sound[: 8000 * 60], 8000)]


def test_this_pjsua2_without_sound_devices_reports_the_headset_unavailable(tmp_path):
    tree = tmp_path / "tree"
    FakeSoundTree(tree).plug(FakeCard("Headset", "1-1.3"))
    report = probe(sys.executable, tree, "Headset")
    if report["devices"]:
        pytest.skip("this pjsua2 has sound devices: the from-source test below covers it")
    assert report["found"] == ["card 0 [Headset] USB Headset at USB 1-1.3"]
    assert report["events"] == [["st1", False, "card 0 [Headset] USB Headset at USB 1-1.3: this pjsua2 build"
                                 " lists no sound devices (the PyPI wheel is built without sound;"
                                 " `make pjsua2` builds one with ALSA)"]]
    assert report["dial"] == "station st1 has no headset plugged in"


def test_from_source_pjsua2_opens_the_headset_rings_it_and_stops_on_answer(tmp_path):
    python = os.environ.get(SRC_PYTHON_ENV)
    if not python:
        pytest.skip(f"set {SRC_PYTHON_ENV} to a Python with the from-source pjsua2 (make pjsua2)")
    home, tree, played = tmp_path / "home", tmp_path / "tree", tmp_path / "played.raw"
    home.mkdir()
    (home / ".asoundrc").write_text(ASOUNDRC.format(name=PCM, played=played))
    FakeSoundTree(tree).plug(FakeCard(PCM, "1-1.3"))
    report = probe(python, tree, PCM, home=home, played=played)
    assert PCM in report["devices"]
    assert report["events"] == [["st1", True, f"card 0 [{PCM}] USB Headset at USB 1-1.3"]]
    assert 0 < report["played_at_answer"] < report["played_at_end"]
    raw = np.fromfile(played, dtype="<i2")
    ringing = heard(raw[: report["played_at_answer"] // 2])
    answered = heard(raw[report["played_at_answer"] // 2:])
    assert ("tone", RING_HZ) in ringing, ringing
    assert answered and all(kind == "tone" and hz == 600 for kind, hz in answered), answered


MIC_ASOUNDRC = """
pcm.{name} {{
    type asym
    playback.pcm {{ type file; slave.pcm "null"; file "{played}"; format "raw" }}
    capture.pcm {{ type file; slave.pcm "null"; file "/dev/null"; infile "{spoken}"; format "raw" }}
    hint {{ show on; description "switchboard test headset with a microphone" }}
}}
"""


def test_from_source_pjsua2_headset_test_plays_the_tone_and_measures_the_microphone(tmp_path):
    """The technician's headset test on the real ALSA path: the tone reaches the headset, and the level
    comes from what its microphone (an alsa-lib file PCM reading a 700 Hz tone) captured."""
    python = os.environ.get(SRC_PYTHON_ENV)
    if not python:
        pytest.skip(f"set {SRC_PYTHON_ENV} to a Python with the from-source pjsua2 (make pjsua2)")
    home, tree, played, spoken = tmp_path / "home", tmp_path / "tree", tmp_path / "played.raw", tmp_path / "mic.raw"
    home.mkdir()
    t = np.arange(8000 * 30) / 8000
    (0.3 * 32767 * np.sin(2 * np.pi * 700 * t)).astype("<i2").tofile(spoken)
    (home / ".asoundrc").write_text(MIC_ASOUNDRC.format(name=PCM, played=played, spoken=spoken))
    FakeSoundTree(tree).plug(FakeCard(PCM, "1-1.3"))
    report = probe(python, tree, PCM, home=home, played=played, extra=("--headset-test", "--seconds", "2"))
    test = report["headset_test"]
    assert test["ok"] and test["ear"] is None and test["in_use_after"] == 0, test
    # The tone is at -10.5 dBFS peak; the file device is not paced by a clock, so the RMS (over gaps
    # of underrun silence) is lower than a real microphone's would be.
    assert abs(test["input"]["peak_dbfs"] - (-10.5)) < 1.5 and test["verdict"].startswith("microphone input OK"), test
    # The unpaced capture hands the bridge only a few frames: what reached them is the 700 Hz tone.
    mic = _mic(test["mic"])
    frames = mic[: len(mic) // 160 * 160].reshape(-1, 160)
    sound = frames[np.abs(frames).max(axis=1) > 0].reshape(-1).astype(float)
    assert len(sound) >= 160 and abs(np.argmax(np.abs(np.fft.rfft(sound))) * 8000 / len(sound) - 700) <= 50
    played_tones = heard(np.fromfile(played, dtype="<i2"))
    assert played_tones and all(kind == "tone" and abs(hz - 1000) <= 10 for kind, hz in played_tones), played_tones


def _mic(path: str) -> np.ndarray:
    from firmware.headset_check import read_pcm
    return read_pcm(path)[1].astype(np.int16)


def test_this_pjsua2_refuses_the_headset_test_without_sound_devices(tmp_path):
    tree = tmp_path / "tree"
    FakeSoundTree(tree).plug(FakeCard("Headset", "1-1.3"))
    report = probe(sys.executable, tree, "Headset", extra=("--headset-test",))
    if report["devices"]:
        pytest.skip("this pjsua2 has sound devices: the from-source test above covers it")
    assert report["headset_test"] == {"refused": "station st1 has no headset plugged in"}


def test_bench_headset_rings(tmp_path):
    identity = os.environ.get(BENCH_ENV)
    if not identity:
        pytest.skip(f"bench box: set {BENCH_ENV} to a plugged USB headset's ALSA card id or USB port")
    report = probe(sys.executable, Path("/"), identity)
    assert report["events"][-1][1], report
