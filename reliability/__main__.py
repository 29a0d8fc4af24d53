"""`python -m reliability` (`make reliability`): every reliability check with its long counts, a report
per check on stdout (what was tried, what held, figures) and all of it as JSON in reliability/results/.
Exit status 1 when anything did not hold."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from firmware.timeutil import iso_now
from reliability import diskfull, hostile, killrestart, modem, powercut, scanner
from reliability.engine import Engine, box
from reliability.health import EngineHealth
from reliability.report import Report
from reliability.sipwire import Target

CHECKS = ["sip", "scanner", "kill", "powercut", "disk", "modem"]


def parse_target(text: str | None) -> Target | None:
    """HOST:PORT[/udp|/tcp]: send the hostile SIP there (a SIP edge in front of the engine) instead."""
    if not text:
        return None
    address, _, transport = text.partition("/")
    host, _, port = address.rpartition(":")
    return Target(host or "127.0.0.1", int(port), transport or "udp")


def hostile_sip(work: Path, args) -> list[Report]:
    engine = Engine(work / "sip", box(), python=args.python).start()
    try:
        target = parse_target(args.target) or Target(*engine.address)
        health = EngineHealth(engine, target, drain_s=90 if args.long else 45)
        batches = [lambda: hostile.corpus_batch(target, health, rounds=3 if args.long else 1, long=args.long),
                   lambda: hostile.cancel_race(target, health, 40 if args.long else 5),
                   lambda: hostile.unacknowledged_answers(target, health),
                   lambda: hostile.fuzz_batch(target, health, args.fuzz, args.seed, check_every=500),
                   lambda: hostile.sipp_batch(target, health, work / "sipp", long=args.long)]
        reports = []
        for batch in batches:
            reports.append(batch())
            if not engine.alive():  # the finding is reported; a fresh engine for the next batch
                reports[-1].notes.append(f"the engine died (exit {engine.proc.returncode}); restarted for the next batch")
                engine.log_path.rename(engine.log_path.with_suffix(f".died-{len(reports)}.log"))
                engine.start()
        return reports
    finally:
        engine.stop()


def scanning(work: Path, args) -> list[Report]:
    reports = []
    # Paced: what the PyPI wheel survives; full speed: as fast as refusals come back; no ACK: a
    # scanner that leaves every refusal unacknowledged (the engine keeps each transaction 32 s).
    for name, rate, ack in (("paced", args.scan_rate, True), ("full speed", None, True),
                            ("never ACKs its refusals", args.scan_rate, False)):
        engine = Engine(work / f"scan-{name.replace(' ', '-')}", box(), python=args.python).start()
        try:
            health = EngineHealth(engine, parse_target(args.target), drain_s=45)
            attempts = args.scan if ack else min(args.scan, 200)
            report = scanner.scan(engine, health, attempts, rate=rate, acknowledge=ack, target=parse_target(args.target))
            report.name = f"scanner, {name}" + (f" ({rate:g} INVITEs/s)" if rate else "")
            reports.append(report)
        finally:
            engine.stop()
    return reports


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    p.add_argument("checks", nargs="*", metavar="CHECK", help=f"some of {', '.join(CHECKS)} (default: all)")
    p.add_argument("--short", dest="long", action="store_false", help="the small counts of `make test`")
    p.add_argument("--python", help="interpreter (and so pjsua2 build) of the engine under test")
    p.add_argument("--target", help="HOST:PORT[/tcp]: send hostile SIP and the scan to a SIP edge instead of the engine")
    p.add_argument("--seed", type=int, default=1, help="fuzzer seed")
    p.add_argument("--fuzz", type=int, help="mutated messages (default 2000, short 200)")
    p.add_argument("--scan", type=int, help="scanner INVITE attempts (default 1000, short 200)")
    p.add_argument("--scan-rate", type=float, default=20.0, help="INVITEs a second of the paced scan")
    p.add_argument("--kills", type=int, help="power cuts of the database (default 100, short 10)")
    p.add_argument("--work-dir", type=Path, help="where engines keep their data (default: a temporary folder)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = p.parse_args(argv)
    unknown = [c for c in args.checks if c not in CHECKS]
    if unknown:
        p.error(f"unknown checks {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    args.fuzz = args.fuzz or (2000 if args.long else 200)
    args.scan = args.scan or (1000 if args.long else 200)
    args.kills = args.kills or (100 if args.long else 10)
    checks = args.checks or CHECKS
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="reliability-"))
    started = time.monotonic()
    reports: list[Report] = []
    runs = {
        "sip": lambda: hostile_sip(work, args),
        "scanner": lambda: scanning(work, args),
        "kill": lambda: [killrestart.kill_and_restart(work / "kill", calls=3, rounds=5 if args.long else 1,
                                                      python=args.python)],
        "powercut": lambda: [powercut.run(work / "powercut", kills=args.kills, seed=args.seed)],
        "disk": lambda: [diskfull.run(work / "disk", python=args.python),
                         diskfull.run(work / "disk-abrupt", python=args.python, abrupt=True)],
        "modem": lambda: [modem.unplug_mid_call(work / "modem", rounds=5 if args.long else 1, python=args.python)],
    }
    print(f"reliability checks ({'long' if args.long else 'short'}): {', '.join(checks)}; work in {work}", flush=True)
    for name in checks:
        try:
            new = runs[name]()
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others' figures
            new = [Report(name, notes=[f"{type(exc).__name__}: {exc}"])]
            new[0].check("the check ran to its end", False)
        for report in new:
            print(report.text(), flush=True)
        reports += new
    failed = [r.name for r in reports if not r.ok]
    print(f"\n{len(reports) - len(failed)} of {len(reports)} reports held in {time.monotonic() - started:.0f} s"
          + (f"; NOT held: {'; '.join(failed)}" if failed else ""))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"reliability-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"at": iso_now(), "python": args.python or sys.executable, "host": platform.node(),
                                "long": args.long, "reports": [r.as_dict() for r in reports]}, indent=2, default=str))
    print(f"JSON: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
