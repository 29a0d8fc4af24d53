"""The RTP the benchmark's callers and operators send: PCMU tones, the caller's interrupted by an
RFC 4733 digit. One SSRC per stream, sequence numbers and timestamps continuous across the digit and
the tone, 20 ms packets, 8 kHz. Built once per run; bench.media sends the same bytes on every call.
"""

from __future__ import annotations

import struct

import numpy as np

RATE = 8000
PTIME_MS = 20
SAMPLES = RATE * PTIME_MS // 1000  # per packet
PT_PCMU = 0
PT_EVENT = 101
FIRST_SEQ = 1000
EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}


def ulaw(samples: np.ndarray) -> bytes:
    """G.711 mu-law encoding of float samples in [-1, 1]."""
    x = np.clip(np.round(np.asarray(samples, float) * 32767), -32767, 32767).astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.clip(np.floor(np.log2(mag)).astype(np.int32) - 7, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def ulaw_decode(data: bytes) -> np.ndarray:
    """Inverse of ulaw(), for checks: float samples in [-1, 1]."""
    u = ~np.frombuffer(data, np.uint8).astype(np.int32) & 0xFF
    exponent, mantissa = (u >> 4) & 0x07, u & 0x0F
    mag = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -mag, mag) / 32768.0


def tone(hz: float, seconds: float, level_dbfs: float = -12.0) -> np.ndarray:
    n = int(round(seconds * RATE / SAMPLES)) * SAMPLES
    return 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * hz * np.arange(n) / RATE)


def packet(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF,
                       ssrc) + payload


def stream(tone_hz: float, seconds: float, ssrc: int, digit: str | None = None, lead_s: float = 0.0,
           digit_ms: int = 100) -> tuple[list[tuple[float, bytes]], int | None]:
    """([(send offset in s, RTP packet)], index of the digit's first packet or None).

    lead_s of the tone, then the digit as RFC 4733 events (if any), then `seconds` of the tone. The
    digit's first packet (marker set) goes at lead_s exactly (a multiple of 20 ms); the event lasts
    digit_ms and ends with the usual three end-of-event packets."""
    packets: list[tuple[float, bytes]] = []
    seq, ts, t = FIRST_SEQ, 160_000, 0.0
    if lead_s > 0:
        seq, ts, t = _tone(packets, tone_hz, lead_s, ssrc, seq, ts, t)
    digit_at = None
    if digit is not None:
        digit_at = len(packets)
        steps = max(1, digit_ms // PTIME_MS)
        for i in range(steps):
            end = i == steps - 1
            body = struct.pack("!BBH", EVENTS[digit], (0x80 if end else 0) | 10, (i + 1) * SAMPLES)
            for _ in range(3 if end else 1):  # the end packet goes three times (RFC 4733 2.5.1.4)
                packets.append((round(t, 6), packet(PT_EVENT, seq, ts, ssrc, body, marker=i == 0)))
                seq += 1
            t += PTIME_MS / 1000
        ts += steps * SAMPLES
    _tone(packets, tone_hz, seconds, ssrc, seq, ts, t)
    return packets, digit_at


def _tone(packets, tone_hz, seconds, ssrc, seq, ts, t):
    audio = ulaw(tone(tone_hz, seconds))
    for k in range(0, len(audio), SAMPLES):
        packets.append((round(t, 6), packet(PT_PCMU, seq, ts, ssrc, audio[k:k + SAMPLES])))
        seq, ts, t = seq + 1, ts + SAMPLES, t + PTIME_MS / 1000
    return seq, ts, t
