"""The benchmark's SIP capture reader (bench/wire.py): pcap records to SIP times."""

from __future__ import annotations

import struct

import pytest

from bench import wire

ENGINE, CALLER, OPERATOR = 5060, 40000, 6000


def sip(first_line: str, call_id: str, cseq: str) -> bytes:
    return (f"{first_line}\r\nVia: SIP/2.0/UDP 127.0.0.1\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\n"
            "Content-Length: 0\r\n\r\n").encode()


def frame(src: int, dst: int, payload: bytes) -> bytes:
    udp = struct.pack(">HHHH", src, dst, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                     bytes([127, 0, 0, 1]))
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def pcap(records: list[tuple[float, bytes]], cut: int = 0) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, wire.LINKTYPE_ETHERNET)
    for t, data in records:
        sec, usec = int(t), round((t - int(t)) * 1e6)
        out += struct.pack("<IIII", sec, usec, len(data), len(data)) + data
    return out[:len(out) - cut]


def test_invite_to_200_and_operator_invites_from_a_capture(tmp_path):
    records = [
        (100.000000, frame(CALLER, ENGINE, sip("INVITE sip:100@127.0.0.1 SIP/2.0", "a1", "1 INVITE"))),
        (100.000400, frame(ENGINE, CALLER, sip("SIP/2.0 100 Trying", "a1", "1 INVITE"))),
        (100.003200, frame(ENGINE, CALLER, sip("SIP/2.0 200 OK", "a1", "1 INVITE"))),
        (100.003300, frame(ENGINE, CALLER, sip("SIP/2.0 200 OK", "a1", "1 INVITE"))),  # retransmitted
        (100.500000, frame(ENGINE, OPERATOR, sip("INVITE sip:op2@127.0.0.1:6000 SIP/2.0", "o1", "7 INVITE"))),
        (101.000000, frame(ENGINE, OPERATOR, sip("INVITE sip:op2@127.0.0.1:6000 SIP/2.0", "o1", "7 INVITE"))),
        (101.200000, frame(OPERATOR, ENGINE, sip("SIP/2.0 200 OK", "o1", "7 INVITE"))),  # not the engine's answer
        (102.000000, frame(CALLER, ENGINE, sip("INVITE sip:100@127.0.0.1 SIP/2.0", "a2", "1 INVITE"))),  # unanswered
        (103.000000, frame(CALLER, ENGINE, sip("BYE sip:100@127.0.0.1 SIP/2.0", "a1", "2 BYE"))),
    ]
    path = tmp_path / "sip.pcap"
    path.write_bytes(pcap(records, cut=5))  # the capture still running: its last record cut short
    messages = wire.read(path)
    assert [m.call_id for m in messages] == ["a1"] * 4 + ["o1"] * 3 + ["a2"]
    assert wire.answer_times_ms(messages, ENGINE, 99, 104) == [pytest.approx(3.2, abs=0.01)]
    assert wire.answer_times_ms(messages, ENGINE, 100.1, 104) == []  # INVITEs outside the window
    assert wire.invites_sent(messages, ENGINE) == {"op2": [pytest.approx(100.5)]}


def test_a_capture_that_is_not_ethernet_framing_is_refused(tmp_path):
    path = tmp_path / "any.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 113))  # Linux cooked (-i any)
    with pytest.raises(ValueError, match="link type 113"):
        wire.read(path)
