"""Raw SIP over UDP or TCP: send any bytes (well-formed or not) at a target and read what comes back.

The target is an address and port, so the same checks can be pointed at the engine or at a SIP edge
in front of it. A peer that gets a 200 to an INVITE acknowledges it and hangs up at once, so a
hostile message that happens to make a call does not leave one up.
"""

from __future__ import annotations

import re
import secrets
import socket
import time
from dataclasses import dataclass

STATUS = re.compile(rb"^SIP/2\.0\s+(\d{3})")
HEADER = lambda name: re.compile(rb"^(?:" + name + rb")\s*:\s*(.*?)\s*$", re.I | re.M)


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    transport: str = "udp"  # "udp" or "tcp"

    def __str__(self) -> str:
        return f"{self.transport}:{self.host}:{self.port}"


def status_of(message: bytes) -> int | None:
    match = STATUS.match(message)
    return int(match.group(1)) if match else None


def header(message: bytes, name: bytes) -> bytes | None:
    match = HEADER(name).search(message.split(b"\r\n\r\n", 1)[0])
    return match.group(1) if match else None


def fields(local: tuple[str, int], target: Target, **extra) -> dict:
    """Values for a message template's {placeholders}: fresh branch, tag and Call-ID each time."""
    return {"lhost": local[0], "lport": local[1], "rhost": target.host, "rport": target.port,
            "transport": target.transport.upper(), "branch": "z9hG4bK" + secrets.token_hex(8),
            "tag": secrets.token_hex(4), "callid": secrets.token_hex(10) + "@rel", **extra}


def fill(template: bytes, values: dict) -> bytes:
    """Placeholders are `{name}`; Content-Length `{len}` is the body's real length (after the blank line)."""
    out = template
    for key, value in values.items():
        out = out.replace(b"{" + key.encode() + b"}", str(value).encode())
    if b"{len}" in out:
        sep = b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n"
        body = out.split(sep, 1)[1] if sep in out else b""
        out = out.replace(b"{len}", str(len(body)).encode())
    return out


class Peer:
    """One SIP peer socket bound to `bind` (the source address the target sees)."""

    def __init__(self, target: Target, bind: str = "127.0.0.1"):
        self.target = target
        self.bind = bind
        self.sock = self._open()

    def _open(self) -> socket.socket:
        if self.target.transport == "udp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((self.bind, 0))
            return sock
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.bind, 0))
        sock.settimeout(2)
        sock.connect((self.target.host, self.target.port))
        return sock

    @property
    def local(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def send(self, data: bytes) -> None:
        try:
            if self.target.transport == "udp":
                self.sock.sendto(data[:65507], (self.target.host, self.target.port))
            else:
                self.sock.sendall(data)
        except OSError:
            self.reopen()  # a TCP target may close on garbage: that is its right

    def reopen(self) -> None:
        self.sock.close()
        self.sock = self._open()

    def receive(self, timeout: float, until=None) -> list[bytes]:
        """Messages received within `timeout` (stops early once `until(messages)` is true)."""
        messages: list[bytes] = []
        deadline = time.monotonic() + timeout
        buffer = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (until and until(messages)):
                return messages
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65535)
            except (socket.timeout, OSError):
                return messages
            if not data:
                return messages
            if self.target.transport == "udp":
                messages.append(data)
            else:
                buffer += data
                while True:
                    message, buffer = _split_stream(buffer)
                    if message is None:
                        break
                    messages.append(message)

    def close(self) -> None:
        self.sock.close()


def _split_stream(buffer: bytes) -> tuple[bytes | None, bytes]:
    head, sep, rest = buffer.partition(b"\r\n\r\n")
    if not sep:
        return None, buffer
    length = int(header(head + sep, b"Content-Length|l") or b"0")
    if len(rest) < length:
        return None, buffer
    return head + sep + rest[:length], rest[length:]


OPTIONS = (b"OPTIONS sip:{rhost}:{rport} SIP/2.0\r\n"
           b"Via: SIP/2.0/{transport} {lhost}:{lport};branch={branch};rport\r\n"
           b"Max-Forwards: 70\r\nFrom: <sip:probe@{lhost}:{lport}>;tag={tag}\r\nTo: <sip:{rhost}:{rport}>\r\n"
           b"Call-ID: {callid}\r\nCSeq: 1 OPTIONS\r\nContact: <sip:probe@{lhost}:{lport}>\r\n"
           b"Content-Length: 0\r\n\r\n")

INVITE = (b"INVITE sip:{user}@{rhost}:{rport} SIP/2.0\r\n"
          b"Via: SIP/2.0/{transport} {lhost}:{lport};branch={branch};rport\r\n"
          b"Max-Forwards: 70\r\nFrom: \"Rel\" <sip:{caller}@{lhost}:{lport}>;tag={tag}\r\n"
          b"To: <sip:{user}@{rhost}:{rport}>\r\nCall-ID: {callid}\r\nCSeq: 1 INVITE\r\n"
          b"Contact: <sip:rel@{lhost}:{lport}>\r\nUser-Agent: {agent}\r\nContent-Type: application/sdp\r\n"
          b"Content-Length: {len}\r\n\r\n"
          b"v=0\r\no=rel 1 1 IN IP4 {lhost}\r\ns=-\r\nc=IN IP4 {lhost}\r\nt=0 0\r\n"
          b"m=audio {rtp} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")


def invite_fields(peer: Peer, user: str = "100", caller: str = "5550100", agent: str = "reliability") -> dict:
    return fields(peer.local, peer.target, user=user, caller=caller, agent=agent, rtp=_spare_port(peer.bind))


def _spare_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def final(messages: list[bytes], method: bytes = b"") -> int | None:
    """The first final response (>= 200) among `messages` (for `method`'s CSeq when given)."""
    for m in messages:
        code = status_of(m)
        if code and code >= 200 and (not method or method in (header(m, b"CSeq") or b"")):
            return code
    return None


def options(target: Target, bind: str = "127.0.0.1", timeout: float = 2.0) -> int | None:
    """Send OPTIONS, retransmitting like a UAC would; the final status or None if nothing came back."""
    peer = Peer(target, bind)
    try:
        msg = fill(OPTIONS, fields(peer.local, target))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            peer.send(msg)
            code = final(peer.receive(0.25, until=lambda ms: final(ms)), b"OPTIONS")
            if code:
                return code
        return None
    finally:
        peer.close()


def hang_up_answered(peer: Peer, invite: bytes, answer: bytes) -> bool:
    """ACK a 200 to our INVITE and send BYE in the dialog it made; True once the BYE got its 200."""
    to = header(answer, b"To|t") or b""
    frm = header(invite, b"From|f") or b""
    call_id = header(invite, b"Call-ID|i") or b""
    first = invite.split(b"\r\n", 1)[0].split(b" ")
    uri = first[1] if len(first) > 1 else b"sip:x"
    contact = re.search(rb"<([^>]+)>", header(answer, b"Contact|m") or b"")
    remote = contact.group(1) if contact else uri
    local = peer.local

    def request(method: bytes, cseq: int, target_uri: bytes) -> bytes:
        return (method + b" " + target_uri + b" SIP/2.0\r\n"
                + f"Via: SIP/2.0/{peer.target.transport.upper()} {local[0]}:{local[1]};branch=z9hG4bK{secrets.token_hex(8)};rport\r\n".encode()
                + b"Max-Forwards: 70\r\nFrom: " + frm + b"\r\nTo: " + to + b"\r\nCall-ID: " + call_id
                + f"\r\nCSeq: {cseq} ".encode() + method + b"\r\nContent-Length: 0\r\n\r\n")

    peer.send(request(b"ACK", 1, remote))
    bye = request(b"BYE", 2, remote)
    for _ in range(8):
        peer.send(bye)
        if final(peer.receive(0.25, until=lambda ms: final(ms, b"BYE")), b"BYE"):
            return True
    return False


def answer_if_invite_answered(peer: Peer, sent: bytes, replies: list[bytes]) -> bool:
    """When a message we sent was taken as an INVITE and answered 200, end that call properly."""
    for reply in replies:
        if status_of(reply) == 200 and b"INVITE" in (header(reply, b"CSeq") or b""):
            return hang_up_answered(peer, sent, reply)
    return False


def ack_refusal(peer: Peer, sent: bytes, replies: list[bytes]) -> bool:
    """ACK a final refusal (>= 300) of an INVITE, as every UAC must: without it the target keeps the
    transaction (and, in pjsua, a call slot) while it retransmits the refusal for 32 s."""
    reply = next((r for r in replies if (status_of(r) or 0) >= 300 and b"INVITE" in (header(r, b"CSeq") or b"")), None)
    if reply is None:
        return False
    via = header(reply, b"Via|v")
    start = sent.split(b"\r\n", 1)[0].split(b" ")
    uri = start[1] if len(start) > 2 else b"sip:x"
    parts = [b"ACK " + uri + b" SIP/2.0"]
    for name, value in ((b"Via", via), (b"From", header(reply, b"From|f")), (b"To", header(reply, b"To|t")),
                        (b"Call-ID", header(reply, b"Call-ID|i"))):
        if value is None:
            return False
        parts.append(name + b": " + value)
    cseq = (header(reply, b"CSeq") or b"1 INVITE").split(b" ")[0]
    parts += [b"CSeq: " + cseq + b" ACK", b"Max-Forwards: 70", b"Content-Length: 0"]
    peer.send(b"\r\n".join(parts) + b"\r\n\r\n")
    return True


def place_call(target: Target, bind: str = "127.0.0.1", timeout: float = 2.0) -> int | None:
    """A well-behaved caller: INVITE (retransmitted), and on 200 ACK and BYE at once. The final status."""
    peer = Peer(target, bind)
    try:
        invite = fill(INVITE, invite_fields(peer, agent="probe"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            peer.send(invite)
            replies = peer.receive(0.5, until=lambda ms: final(ms, b"INVITE"))
            code = final(replies, b"INVITE")
            if code == 200:
                hang_up_answered(peer, invite, next(r for r in replies if status_of(r) == 200))
            elif code:
                ack_refusal(peer, invite, replies)
            if code:
                return code
        return None
    finally:
        peer.close()
