"""Malformed and hostile SIP: the corpus from a stranger's address and from a line's address, the
mutation fuzzer, INVITE+CANCEL races, and SIPp peers that misbehave (re-INVITE storm, BYE before
ACK, OPTIONS flood).
Each batch ends with a health check: alive, answering OPTIONS and `switchboard status`, no call state."""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter
from pathlib import Path

from reliability import corpus
from reliability.engine import free_port
from reliability.health import EngineHealth
from reliability.report import Report
from reliability.sipwire import (INVITE, Peer, Target, ack_refusal, answer_if_invite_answered, fields, fill, final,
                                 invite_fields, place_call)

SIPP_DIR = Path(__file__).parent / "sipp"
ALLOWED, STRANGER = "127.0.0.1", "127.0.0.2"


def _send_and_settle(peer: Peer, message: bytes, wait: float) -> tuple[int | None, bool]:
    """Send one message; the first final status (None: no answer) and whether a call it made was ended."""
    peer.send(message)
    replies = peer.receive(wait, until=lambda ms: final(ms))
    code = final(replies)
    hung_up = answer_if_invite_answered(peer, message, replies) if code == 200 else False
    if code and code >= 300:
        ack_refusal(peer, message, replies)
    return code, hung_up


def corpus_batch(target: Target, health: EngineHealth, rounds: int = 1, wait: float = 0.3,
                 long: bool = False) -> Report:
    """Every corpus message from a stranger's address, then from a line's."""
    cases = corpus.corpus()
    report = Report("hostile SIP: corpus", tried={"messages in corpus": len(cases), "sources": [STRANGER, ALLOWED],
                                                  "rounds": rounds, "target": str(target)})
    answers: dict[str, Counter] = {STRANGER: Counter(), ALLOWED: Counter()}
    calls_made = {STRANGER: 0, ALLOWED: 0}
    start = time.monotonic()
    sent = 0
    for _ in range(rounds):
        for source in (STRANGER, ALLOWED):
            peer = Peer(target, source)
            try:
                for name, template in cases.items():
                    message = fill(template, fields(peer.local, target, user="100", caller="5550100",
                                                    agent="corpus", rtp=40000))
                    code, hung_up = _send_and_settle(peer, message, wait)
                    answers[source][str(code or "none")] += 1
                    calls_made[source] += hung_up
                    sent += 1
                    if target.transport == "tcp":
                        peer.reopen()  # one message per connection: garbage may close it
            finally:
                peer.close()
    elapsed = time.monotonic() - start
    report.tried["messages sent"] = sent
    report.figures["answers from a stranger's address (status: count)"] = dict(answers[STRANGER])
    report.figures["answers from a line's address (status: count)"] = dict(answers[ALLOWED])
    report.figures["calls the corpus made from a line's address (answered, then hung up)"] = calls_made[ALLOWED]
    report.figures["messages per second"] = round(sent / elapsed, 1)
    report.check("no call answered for a stranger's address", calls_made[STRANGER] == 0,
                 f"{calls_made[STRANGER]} answered")
    health.check(report, "after corpus")
    return report


def fuzz_batch(target: Target, health: EngineHealth, count: int, seed: int, wait: float = 0.08,
               check_every: int | None = None) -> Report:
    rng = random.Random(seed)
    report = Report("hostile SIP: mutation fuzzer", tried={"seed": seed, "mutated messages": count,
                                                          "source": ALLOWED, "target": str(target)})
    answers: Counter = Counter()
    calls_made = 0
    peer = Peer(target, ALLOWED)
    start = time.monotonic()
    try:
        for i in range(count):
            base = rng.choice(corpus.SEEDS)
            valid = fill(base, fields(peer.local, target, user=str(rng.choice([100, 200, 5551234])),
                                      caller="5550100", agent="fuzz", rtp=40000 + 2 * rng.randrange(1000)))
            code, hung_up = _send_and_settle(peer, corpus.mutate(rng, valid), wait)
            answers[str(code or "none")] += 1
            calls_made += hung_up
            if target.transport == "tcp":
                peer.reopen()
            if check_every and (i + 1) % check_every == 0 and i + 1 < count:
                health.check(report, f"after {i + 1} mutations")
    finally:
        peer.close()
    elapsed = time.monotonic() - start
    report.figures["answers (status: count)"] = dict(answers)
    report.figures["calls the fuzzer made (answered, then hung up by the sender)"] = calls_made
    report.figures["messages per second"] = round(count / elapsed, 1)
    health.check(report, "after fuzzing")
    return report


def sipp(target: Target, scenario: str, work: Path, calls: int = 1, rate: int = 10, service: str = "100",
         bind: str = ALLOWED, timeout: float = 60) -> subprocess.CompletedProcess:
    transport = ["-t", "t1"] if target.transport == "tcp" else []
    return subprocess.run(["sipp", f"{target.host}:{target.port}", "-sf", str(SIPP_DIR / scenario), "-s", service,
                           "-i", bind, "-p", str(free_port()), "-m", str(calls), "-r", str(rate), *transport,
                           "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin", "-trace_err"],
                          cwd=work, capture_output=True, text=True, timeout=timeout + 15)


SCENARIOS = {
    # name: (file, what it does, calls in the short run, calls in the long run)
    "re-INVITE storm": ("reinvite-storm.xml", "a call answered, 20 re-INVITEs with new media ports, BYE", 1, 4),
    "BYE before ACK": ("bye-before-ack.xml", "INVITE answered, BYE without the ACK", 2, 20),
    "OPTIONS flood": ("options-flood.xml", "OPTIONS at 200 a second", 200, 5000),
}


def cancel_race(target: Target, health: EngineHealth, count: int, pace_s: float = 0.1) -> Report:
    """INVITE then CANCEL at once, racing the engine's immediate answer; whichever wins, the call must go.
    Paced (`pace_s` between pairs): a burst of INVITEs is the scanner check's subject, not this one's."""
    report = Report("hostile SIP: CANCEL races", tried={"INVITE+CANCEL pairs": count, "target": str(target),
                                                       "seconds between pairs": pace_s})
    outcomes: Counter = Counter()
    peer = Peer(target, ALLOWED)
    try:
        for _ in range(count):
            invite = fill(INVITE, invite_fields(peer, agent="cancel-race"))
            head = invite.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
            keep = [h for h in head[1:] if h.split(b":", 1)[0].lower() in (b"via", b"from", b"to", b"call-id", b"max-forwards")]
            cancel = (head[0].replace(b"INVITE", b"CANCEL", 1) + b"\r\n" + b"\r\n".join(keep)
                      + b"\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n")
            time.sleep(pace_s)
            peer.send(invite)
            peer.send(cancel)
            replies = peer.receive(1.0, until=lambda ms: final(ms, b"INVITE"))
            code = final(replies, b"INVITE")
            outcomes[f"INVITE {code or 'unanswered'}"] += 1
            if code == 200:
                answer_if_invite_answered(peer, invite, replies)
            elif code:
                ack_refusal(peer, invite, replies)
    finally:
        peer.close()
    report.figures["outcomes"] = dict(outcomes)
    health.check(report, "after CANCEL races")
    return report


def sipp_batch(target: Target, health: EngineHealth, work: Path, long: bool = False) -> Report:
    work.mkdir(parents=True, exist_ok=True)
    report = Report("hostile SIP: SIPp scenarios", tried={"target": str(target)})
    for name, (file, what, short_calls, long_calls) in SCENARIOS.items():
        calls = long_calls if long else short_calls
        rate = 200 if "flood" in name else 5
        start = time.monotonic()
        result = sipp(target, file, work, calls=calls, rate=rate)
        report.tried[name] = f"{what}; {calls} calls"
        report.figures[f"{name}: seconds"] = round(time.monotonic() - start, 2)
        report.check(f"{name}: SIPp scenario passed", result.returncode == 0,
                     (result.stdout + result.stderr)[-1500:])
        health.check(report, f"after {name}")
    return report


def unacknowledged_answers(target: Target, health: EngineHealth, slots: int = 4, bound_s: float = 30.0) -> Report:
    """Hostile input that would pin the box's call slots (the PyPI wheel has 4): INVITEs whose answer
    cannot be sent back (500 Via headers: the 200 would exceed pjsip's packet size, and pjsip would
    wait about a minute for an ACK) must be refused at once; well-formed INVITEs whose 200 is never
    acknowledged must be hung up by the engine (telephony/sip.py ACK_WAIT_S). `bound_s` is a
    generous "well before pjsip's own minute", not a figure to meet."""
    report = Report("hostile SIP: answers that cannot be sent or are never acknowledged", tried={
        "INVITEs with 500 Via headers": slots, "INVITEs answered but never ACKed": slots, "source": ALLOWED,
        "target": str(target)})
    engine = health.engine
    peer = Peer(target, ALLOWED)
    try:
        template = corpus.generated()["gen-500-via-headers"]
        codes: Counter = Counter()
        for _ in range(slots):
            peer.send(fill(template, fields(peer.local, target, user="100", caller="5550100", agent="no-ack",
                                            rtp=40000)))
            codes[str(final(peer.receive(2.0, until=lambda ms: final(ms))) or "none")] += 1
        report.figures["answers to the 500-Via INVITEs (status: count)"] = dict(codes)
        report.check("every 500-Via INVITE refused before it is answered (513)", codes.get("513", 0) == slots,
                     str(dict(codes)))
        health.check(report, "after the 500-Via INVITEs")

        codes = Counter()
        sent_at = time.monotonic()
        for i in range(slots):
            invite = fill(INVITE, invite_fields(peer, agent="never-acks"))
            peer.send(invite)
            codes[str(final(peer.receive(2.0, until=lambda ms: final(ms, b"INVITE")), b"INVITE") or "none")] += 1
        report.figures["answers to the INVITEs never ACKed (status: count)"] = dict(codes)
        report.check("the INVITEs that are never ACKed were answered (the case happened)", codes.get("200", 0) > 0,
                     str(dict(codes)))
        try:
            engine.wait_for(lambda: not engine.status()["calls"], timeout=bound_s, what="sessions gone", step=0.25)
            gone = True
        except TimeoutError:
            gone = False
        report.figures["seconds until the engine hung the unacknowledged calls up"] = round(time.monotonic() - sent_at, 2)
        report.check(f"the unacknowledged calls hung up within {bound_s:.0f} s", gone, str(engine.status()["calls"]))
        code = None
        while time.monotonic() - sent_at < 90 and code != 200:
            code = place_call(target, timeout=2)
            if code != 200:
                time.sleep(0.5)
        report.figures["seconds until pjsua2 answered a new call again (its slots freed)"] = \
            round(time.monotonic() - sent_at, 2)
    finally:
        peer.close()
    health.check(report, "after the INVITEs never ACKed")
    return report
