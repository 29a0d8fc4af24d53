"""INVITEs whose answer pjsip could not send are refused before they are answered."""

from __future__ import annotations

from firmware.telephony.sip import answer_too_large

HEAD = ("INVITE sip:100@127.0.0.1 SIP/2.0\r\n{vias}From: <sip:5550100@127.0.0.1>;tag=1\r\n"
        "To: <sip:100@127.0.0.1>\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\nContent-Length: {n}\r\n\r\n{body}")


def invite(vias: int, body: str = "v=0\r\n" * 10) -> str:
    via = "".join(f"Via: SIP/2.0/UDP 10.0.0.{i % 250}:5060;branch=z9hG4bK{i}\r\n" for i in range(vias))
    return HEAD.format(vias=via, n=len(body), body=body)


def test_an_ordinary_invite_is_answered():
    assert not answer_too_large(invite(3))
    assert not answer_too_large(invite(3, body="a=x\r\n" * 2000))  # a big offer: the answer is ours


def test_hundreds_of_vias_make_an_answer_too_large_to_send():
    assert answer_too_large(invite(500))
    assert answer_too_large(invite(80))  # about where the 200 passes pjsip's 4000 bytes (measured: 80 Vias)
    assert not answer_too_large(invite(40))
