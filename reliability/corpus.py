"""The hostile messages: the hand-written corpus (tests/sip_corpus), generated oversized ones, and a
small seeded mutation fuzzer over valid messages (same seed, same messages)."""

from __future__ import annotations

import random
from pathlib import Path

from reliability.sipwire import INVITE, OPTIONS

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "sip_corpus"




def _with_headers(extra: bytes) -> bytes:
    head, body = INVITE.split(b"\r\n\r\n", 1)
    return head + b"\r\n" + extra + b"\r\n\r\n" + body


def generated() -> dict[str, bytes]:
    """Messages too big to keep as files: what a parser with fixed buffers chokes on."""
    return {
        "gen-huge-header-60k": _with_headers(b"X-Huge: " + b"A" * 60_000),
        "gen-huge-subject-8k": _with_headers(b"Subject: " + b"s" * 8_000),
        # after the sender's own Via; the answer, echoing all 500, is too large to come back: the engine
        # hangs the call up for want of an ACK (telephony/sip.py ACK_WAIT_S)
        "gen-500-via-headers": _with_headers(b"\r\n".join(
            b"Via: SIP/2.0/UDP 10.0.%d.%d:5060;branch=z9hG4bK%d" % (i // 250, i % 250, i) for i in range(500))),
        "gen-2000-small-headers": _with_headers(b"\r\n".join(b"X-H%d: %d" % (i, i) for i in range(2000))),
        "gen-long-header-name-4k": _with_headers(b"X-" + b"N" * 4_000 + b": v"),
        "gen-request-uri-10k": INVITE.replace(b"sip:{user}@", b"sip:" + b"9" * 10_000 + b"@", 1),
        "gen-callid-4k": INVITE.replace(b"Call-ID: {callid}", b"Call-ID: " + b"c" * 4_000, 1),
        "gen-1000-sdp-media-lines": INVITE + b"".join(b"m=audio %d RTP/AVP 0\r\n" % (20000 + 2 * i) for i in range(1000)),
        "gen-1000-route-headers": _with_headers(b"\r\n".join(b"Route: <sip:10.1.%d.%d;lr>" % (i // 250, i % 250)
                                                            for i in range(1000))),
        "gen-content-length-overflow": INVITE.replace(b"Content-Length: {len}", b"Content-Length: 4294967296", 1),
    }


def corpus() -> dict[str, bytes]:
    """Every message of the corpus by name: the files first, then the generated ones."""
    cases = {p.stem: p.read_bytes() for p in sorted(CORPUS.glob("*.sip"))}
    cases.update(generated())
    return cases


# --- the fuzzer -------------------------------------------------------------------------------------
SEEDS = [INVITE, OPTIONS]
_NUMBERS = [b"0", b"-1", b"4294967295", b"4294967296", b"99999999999999999999", b"65536", b"%n%s%x", b"1e9"]
_TOKENS = [b"\r\n", b"\r\n\r\n", b"\x00", b";", b":", b"<", b">", b"@", b'"', b"\xff", b"%", b"\t", b" ",
           b"sip:", b"SIP/2.0", b";tag=", b";branch=", b"Content-Length: 0\r\n"]


def _mutate_once(rng: random.Random, m: bytearray) -> None:
    if not m:
        m.extend(rng.choice(_TOKENS))
        return
    kind = rng.randrange(10)
    i = rng.randrange(len(m))
    if kind == 0:  # flip bits of one byte
        m[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # delete a span
        del m[i:i + rng.randint(1, 40)]
    elif kind == 2:  # duplicate a span
        j = i + rng.randint(1, 200)
        m[j:j] = m[i:j]
    elif kind == 3:  # insert random bytes
        m[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == 4:  # insert a SIP-significant token
        m[i:i] = rng.choice(_TOKENS)
    elif kind == 5:  # truncate
        del m[i:]
    elif kind == 6:  # replace the digits at i with a troublesome number
        j = i
        while j < len(m) and 48 <= m[j] <= 57:
            j += 1
        m[i:max(j, i + 1)] = rng.choice(_NUMBERS)
    elif kind == 7:  # drop a whole line
        lines = bytes(m).split(b"\r\n")
        del lines[rng.randrange(len(lines))]
        m[:] = b"\r\n".join(lines)
    elif kind == 8:  # repeat a line many times
        lines = bytes(m).split(b"\r\n")
        k = rng.randrange(len(lines))
        lines[k:k] = [lines[k]] * rng.choice([2, 10, 200])
        m[:] = b"\r\n".join(lines)
    else:  # swap two lines
        lines = bytes(m).split(b"\r\n")
        a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[a], lines[b] = lines[b], lines[a]
        m[:] = b"\r\n".join(lines)


def mutate(rng: random.Random, message: bytes) -> bytes:
    """1 to 4 mutations of an already filled-in message."""
    m = bytearray(message)
    for _ in range(rng.randint(1, 4)):
        _mutate_once(rng, m)
    return bytes(m[:65000])
