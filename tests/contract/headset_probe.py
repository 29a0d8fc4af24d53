"""Runs the real headset path on whatever pjsua2 this interpreter has, in its own process (one pjsua2
Endpoint per process, destroyed cleanly): discovery on a sound tree, device pick and validation,
ExtraAudioDevice open, ring tone, answer, close. Prints a JSON report.

    python -m tests.contract.headset_probe --root TREE --station st1 --identity ID [--played FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

import pjsua2 as pj

from drivers.audio import HeadsetWatcher
from firmware import prompts
from firmware.engine.ports import DialFailed
from firmware.telephony.headsets import AlsaHeadsets
from firmware.telephony.stations import ring_tone


def pump(ep, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ep.libHandleEvents(10)


def size(path: str | None) -> int:
    return os.path.getsize(path) if path and os.path.exists(path) else 0


def headset_test(ep, headsets, station: str, work: Path, seconds: float) -> dict:
    """The technician's headset test on this headset, measured as the engine measures it."""
    from firmware import headset_check
    from firmware.telephony.headset_test import HeadsetTest
    try:
        media = headsets.test_media(station, None)
    except DialFailed as exc:
        return {"refused": str(exc)}
    test = HeadsetTest(station, media, work / "headset-tests")
    pump(ep, seconds)
    result = headset_check.check(test.finish())
    del test
    return {**result, "in_use_after": sum(headsets.in_use.values())}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--station", default="st1")
    parser.add_argument("--identity", required=True)
    parser.add_argument("--played", help="where the test PCM writes what the headset played")
    parser.add_argument("--seconds", type=float, default=1.2)
    parser.add_argument("--headset-test", action="store_true",
                        help="run the technician's headset test instead of ringing and answering")
    args = parser.parse_args()
    work = Path(args.root) / "work"
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {}

    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.medConfig.clockRate = cfg.medConfig.sndClockRate = 8000
    cfg.logConfig.consoleLevel = 1
    ep.libInit(cfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    headsets = AlsaHeadsets(pj, lambda: ep, ring_tone(work))
    found = []
    HeadsetWatcher({args.station: args.identity}, found.append, root=args.root).poll()
    report["found"] = [p.detail for p in found]
    events = [headsets.update(p) for p in found]
    report["events"] = [[e.station, e.present, e.detail] for batch in events for e in batch]
    report["devices"] = [d.name for d in ep.audDevManager().enumDev2()]
    if args.headset_test:
        report["headset_test"] = headset_test(ep, headsets, args.station, work, args.seconds)
        station = None
    else:
        station = None
    try:
        if not args.headset_test:
            station = headsets(args.station, f"{args.station}#1", None)
    except DialFailed as exc:
        report["dial"] = str(exc)
        station = None
    if station is not None:
        caller_file = work / "caller.wav"
        prompts.write_wav(caller_file, prompts.tone(600, 5))
        station.ring()
        pump(ep, args.seconds)
        report["played_at_answer"] = size(args.played)
        caller = pj.AudioMediaPlayer()
        caller.createPlayer(str(caller_file), 0)
        station.connect()
        caller.startTransmit(station.rx)  # the caller's voice into the headset
        pump(ep, args.seconds)
        caller.stopTransmit(station.rx)
        report["played_at_end"] = size(args.played)
        station.close()
        del caller, station
    headsets.close()
    del headsets
    sys.last_type = sys.last_value = sys.last_traceback = None
    gc.collect()
    ep.libDestroy()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
