"""A SIP scanner from an address that is not a line: INVITEs to many numbers (international and
premium ones included, the toll-fraud pattern) with scanner user agents. Every one must be refused
with 403, no line seized, no call placed, no call record left open."""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter

from reliability.engine import Engine
from reliability.health import EngineHealth
from reliability.report import Report
from reliability.sipwire import INVITE, Peer, Target, ack_refusal, final, fill, invite_fields

AGENTS = ["friendly-scanner", "sipvicious", "sipcli/v1.8", "VaxSIPUserAgent/3.1", "pplsip", "Cisco-SIPGateway"]
NUMBERS = ["100", "00972595555555", "011442079460000", "900123456", "+88213000000", "1001", "*97", "9011441234567"]


def scan(engine: Engine, health: EngineHealth, attempts: int, source: str = "127.0.0.2", seed: int = 7,
         target: Target | None = None, acknowledge: bool = True, rate: float | None = None) -> Report:
    target = target or Target(*engine.address)
    rng = random.Random(seed)
    report = Report("scanner" if acknowledge else "scanner that never ACKs its refusals",
                    tried={"INVITE attempts": attempts, "source": source, "target": str(target),
                           "user agents": len(AGENTS), "dialled numbers": len(NUMBERS),
                           "ACKs the refusals": acknowledge, "rate limit per second": rate or "none"})
    before = {c["id"] for c in engine.calls()}
    answers: Counter = Counter()
    latencies: list[float] = []
    seized = 0
    peer = Peer(target, source)
    start = time.monotonic()
    try:
        for i in range(attempts):
            if rate:
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
            invite = fill(INVITE, invite_fields(peer, user=rng.choice(NUMBERS), caller=str(rng.randrange(10**9)),
                                                 agent=rng.choice(AGENTS)))
            sent = time.monotonic()
            peer.send(invite)
            replies = peer.receive(1.0, until=lambda ms: final(ms, b"INVITE"))
            code = final(replies, b"INVITE")
            answers[str(code or "none")] += 1
            if code:
                latencies.append(time.monotonic() - sent)
            if acknowledge and code:
                ack_refusal(peer, invite, replies)
            if not engine.alive():
                break
            if i % 100 == 0:  # look at the box while the scan runs, not only afterwards
                st = engine.status()
                seized = max(seized, len(st["calls"]) + sum(1 for op in st["operators"] if op["state"] == "ringing"))
    finally:
        peer.close()
    elapsed = time.monotonic() - start
    report.figures["answers (status: count)"] = dict(answers)
    if not report.check("the engine survived the scan", engine.alive(), _abort_line(engine.log())):
        report.figures["attempts answered before the engine died"] = sum(answers.values()) - answers.get("none", 0)
        report.figures["seconds until the engine died"] = round(elapsed, 2)
        return report
    report.figures["attempts per second"] = round(attempts / elapsed, 1)
    report.figures["scan seconds"] = round(elapsed, 2)
    if latencies:
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        report.figures["INVITE -> refusal ms p50/p99"] = f"{q[49] * 1000:.1f} / {q[98] * 1000:.1f}"
    if acknowledge:
        report.check("every attempt refused with 403", answers.get("403", 0) == attempts, str(dict(answers)))
    else:
        report.check("no attempt answered 200", answers.get("200", 0) == 0, str(dict(answers)))
    report.check("no line seized and no operator rung during the scan", seized == 0, f"{seized} seen")
    engine.wait_for(lambda: engine.idle(), timeout=45, what="idle")
    records = [c for c in engine.calls() if c["id"] not in before]
    report.figures["call records written for the scan"] = len(records)
    report.check("every scan record is closed, refused, with no line and no operator",
                 all(c["ended_at"] and c["disposition"] == "rejected" and c["line"] is None and not c["operator"]
                     for c in records), str([c for c in records if c["disposition"] != "rejected"][:3]))
    report.check("the refusals are in `switchboard log`", source in engine.cli("log").stdout)
    health.check(report, "after the scan")
    return report


def _abort_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if "Assertion" in ln or "Traceback" in ln]
    return lines[-1] if lines else text[-300:]
