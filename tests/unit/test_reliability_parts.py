"""The pure parts of the reliability checks and what they found: corpus and fuzzer, message filling,
a non-UTF-8 INVITE's text made storable."""

from __future__ import annotations

import random

from firmware.telephony.sip import parse_invite, readable
from reliability import corpus
from reliability.report import Report
from reliability.sipwire import INVITE, Target, fields, fill, header, status_of


def test_the_corpus_has_its_files_and_generated_messages():
    cases = corpus.corpus()
    assert len(cases) >= 95
    assert cases["clen-negative"].startswith(b"INVITE ") and b"Content-Length: -1" in cases["clen-negative"]
    assert len(cases["gen-huge-header-60k"]) > 60_000


def test_the_fuzzer_is_deterministic_for_a_seed_and_mutates():
    base = fill(INVITE, fields(("127.0.0.1", 5000), Target("127.0.0.1", 5060), user="100", caller="1",
                               agent="t", rtp=4000))
    a = [corpus.mutate(random.Random(5), base) for _ in range(3)]
    b = [corpus.mutate(random.Random(5), base) for _ in range(3)]
    assert a == b
    rng = random.Random(9)
    assert sum(corpus.mutate(rng, base) != base for _ in range(50)) >= 45


def test_fill_puts_the_real_body_length():
    message = fill(INVITE, fields(("127.0.0.1", 5000), Target("127.0.0.1", 5060), user="100", caller="1",
                                  agent="t", rtp=4000))
    body = message.split(b"\r\n\r\n", 1)[1]
    assert header(message, b"Content-Length|l") == str(len(body)).encode()
    assert b"{" not in message
    assert status_of(b"SIP/2.0 403 Forbidden\r\n\r\n") == 403 and status_of(message) is None


def test_an_invite_with_bytes_that_are_not_utf8_gives_a_storable_caller_name():
    raw = b'INVITE sip:100@h SIP/2.0\r\nFrom: "\xff\xfe Bob" <sip:555@h>;tag=1\r\n\r\n'
    text = raw.decode("utf-8", "surrogateescape")  # what the binding hands over
    dialled, caller, name = parse_invite(readable(text))
    assert (dialled, caller) == ("100", "555")
    assert name == "\ufffd\ufffd Bob"
    name.encode("utf-8")  # storable


def test_a_report_holds_only_when_every_check_held():
    report = Report("x")
    assert not report.ok  # nothing checked is nothing held
    report.check("a", True)
    report.check("b", False, "why")
    assert not report.ok and report.failed() == ["b"] and "why" in report.text()
