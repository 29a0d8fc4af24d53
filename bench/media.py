"""The callers' and operators' RTP: sent by the benchmark itself, and everything the engine sends back
measured on the way in.

SIPp does the SIP of both sides; its SDP points at the two UDP sockets of this module (one for all
callers, one for all operators, RTP on an even port and RTCP on the next). Every engine call leg
sends its RTP there, so a new source address is a new call leg: from its first packet on, this
module answers it with a tone (the caller's interrupted by the RFC 4733 digit 1 after the IVR time)
from the same socket, i.e. from the address in the SDP, and stops when the engine has gone quiet
for half a second (the call is over). All of it runs in one child process, in one thread.

Why not SIPp's own RTP: SIPp 3.6 plays pcaps through one raw socket per playing call, and the
kernel hands a copy of every UDP packet on 127.0.0.1 to every raw socket; at 100+ calls that costs
the engine measurable system time for each packet it sends. Plain UDP sockets have no such cost and
need no root.

What is measured, per side (towards callers, towards operators):
- the engine's outgoing RTP: packets, sequence gaps (loss), RFC 3550 interarrival jitter from
  kernel receive timestamps (SO_TIMESTAMPNS, so this process's scheduling does not count), the
  longest gap between packets;
- the engine's own receive statistics of our streams, from the report blocks of the RTCP SR/RR it
  sends (cumulative packets lost, interarrival jitter), including the report pjmedia sends when a
  stream ends;
- drops on our own sockets (SO_RXQ_OVFL), so that a lagging benchmark is not taken for engine loss;
- when each digit was sent (wall clock, at the sendto of its first packet).
"""

from __future__ import annotations

import multiprocessing
import selectors
import socket
import struct
import time
from dataclasses import dataclass, field

from bench import rtp

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
RCVBUF = 8 * 1024 * 1024
CLOCK_RATE = 8000
QUIET_S = 0.5  # an engine leg silent this long is over: stop answering it


@dataclass
class RtpStream:
    """One RTP stream the engine sends (source address + SSRC)."""

    first_seq: int
    max_ext: int
    last_seq: int
    packets: int = 0
    jitter: float = 0.0  # RFC 3550 J, in timestamp units
    max_jitter: float = 0.0
    last_transit: float | None = None
    last_arrival: float | None = None
    max_gap_s: float = 0.0
    gaps_over_60ms: int = 0
    cycles: int = 0

    @property
    def expected(self) -> int:
        return self.max_ext - self.first_seq + 1

    def add(self, seq: int, ts: int, arrival: float) -> None:
        if self.packets:
            delta = (seq - self.last_seq) & 0xFFFF
            if delta < 0x8000:  # in order, or a jump forward
                if seq < self.last_seq:
                    self.cycles += 1 << 16
                self.last_seq = seq
                self.max_ext = max(self.max_ext, self.cycles + seq)
        self.packets += 1
        transit = arrival * CLOCK_RATE - ts
        if self.last_transit is not None:
            d = abs(transit - self.last_transit)
            if d < CLOCK_RATE * 10:  # a timestamp jump is a new source, not jitter
                self.jitter += (d - self.jitter) / 16
                self.max_jitter = max(self.max_jitter, self.jitter)
        self.last_transit = transit
        if self.last_arrival is not None:
            gap = arrival - self.last_arrival
            self.max_gap_s = max(self.max_gap_s, gap)
            if gap > 0.060:
                self.gaps_over_60ms += 1
        self.last_arrival = arrival


@dataclass
class ReportBlock:
    """The newest RTCP report block the engine sent about our stream, per engine RTCP address."""

    cumulative_lost: int
    highest_ext_seq: int
    jitter: int  # timestamp units
    max_jitter: int
    reports: int


@dataclass
class Answer:
    """Our stream towards one engine leg."""

    t0: float
    last_rx: float
    next: int = 0


@dataclass
class Side:
    name: str
    packets: list
    digit_at: int | None
    rtp_sock: socket.socket
    rtcp_sock: socket.socket
    answers: dict = field(default_factory=dict)  # engine address -> Answer
    rtp: dict = field(default_factory=dict)  # (address, ssrc) -> RtpStream
    rtcp: dict = field(default_factory=dict)  # engine RTCP address -> ReportBlock
    digits: list = field(default_factory=list)  # (engine port, wall time the digit's first packet went)
    legs: int = 0
    socket_drops: int = 0
    send_errors: int = 0
    late_sends: int = 0  # packets sent more than 10 ms after their time

    @property
    def port(self) -> int:
        return self.rtp_sock.getsockname()[1]


def _socket(host: str, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
    s.bind((host, port))
    s.setblocking(False)
    return s


def _socket_pair(host: str, attempts: int = 50) -> tuple[socket.socket, socket.socket]:
    """RTP on an even free port, RTCP on the next one."""
    for _ in range(attempts):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind((host, 0))
        port = probe.getsockname()[1] & ~1
        probe.close()
        if port < 1024:
            continue
        try:
            a = _socket(host, port)
        except OSError:
            continue
        try:
            return a, _socket(host, port + 1)
        except OSError:
            a.close()
    raise RuntimeError("no free RTP/RTCP port pair")


class Media:
    """streams: side name -> (packets, digit index) from bench.rtp.stream().

    The sockets are opened here (so their ports are known at once); one child process then owns
    them and does all the sending and receiving in a single thread: a second thread (or the
    benchmark's own threads) would share the GIL with the sender, and every sendto would have to
    win the GIL back, which made packets late by tens of milliseconds at 60 calls."""

    def __init__(self, streams: dict[str, tuple[list, int | None]], host: str = "127.0.0.1"):
        self.host = host
        self.sides: dict[str, Side] = {}
        for name, (packets, digit_at) in streams.items():
            a, b = _socket_pair(host)
            self.sides[name] = Side(name, packets, digit_at, a, b)
        self._ports = {name: side.port for name, side in self.sides.items()}
        self._conn = None
        self._proc = None

    def port(self, side: str) -> int:
        return self._ports[side]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> "Media":
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(self.sides, child), name="bench-media", daemon=True)
        self._proc.start()
        child.close()
        for side in self.sides.values():  # the child has its own copies
            side.rtp_sock.close()
            side.rtcp_sock.close()
        return self

    def take(self, timeout: float = 30) -> dict[str, dict]:
        """What was measured since the last take(), per side; counters start afresh (legs still
        being answered go on being answered)."""
        self._conn.send("take")
        if not self._conn.poll(timeout):
            raise RuntimeError("bench.media did not answer")
        return self._conn.recv()

    def stop(self) -> None:
        if self._proc is None:
            return
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
        self._conn.close()


def _serve(sides: dict[str, Side], conn) -> None:
    """The child: one loop that sends what is due, then reads what arrived, then answers the parent."""
    try:
        _Loop(sides, conn).run()
    except KeyboardInterrupt:
        pass


class _Loop:
    RECEIVE_BUDGET_S = 0.002  # at most this long reading before due packets go out

    def __init__(self, sides: dict[str, Side], conn):
        self.sides, self.conn = sides, conn
        self.sel = selectors.DefaultSelector()
        for side in sides.values():
            self.sel.register(side.rtp_sock, selectors.EVENT_READ, (side, "rtp"))
            self.sel.register(side.rtcp_sock, selectors.EVENT_READ, (side, "rtcp"))
        self.sel.register(conn, selectors.EVENT_READ, None)
        self.drops_seen: dict[int, int] = {}
        self.cmsg_space = socket.CMSG_SPACE(16) + socket.CMSG_SPACE(4)

    def run(self) -> None:
        period = rtp.PTIME_MS / 1000
        while True:
            next_due = self._send(period)
            timeout = max(0.0, min(period, next_due - time.time()))
            for key, _ in self.sel.select(timeout=timeout):
                if key.data is None:
                    if not self._command():
                        return
                    continue
                side, kind = key.data
                self._receive(key.fileobj, side, kind, time.time() + self.RECEIVE_BUDGET_S)

    def _command(self) -> bool:
        try:
            cmd = self.conn.recv()
        except (EOFError, OSError):
            return False
        if cmd == "take":
            out = {}
            for side in self.sides.values():
                out[side.name] = {"rtp": side.rtp, "rtcp": side.rtcp, "digits": side.digits, "legs": side.legs,
                                  "socket_drops": side.socket_drops, "send_errors": side.send_errors,
                                  "late_sends": side.late_sends}
                side.rtp, side.rtcp, side.digits = {}, {}, []
                side.legs = side.socket_drops = side.send_errors = side.late_sends = 0
            self.conn.send(out)
            return True
        return False  # "stop"

    def _send(self, period: float) -> float:
        now = time.time()
        next_due = now + period
        for side in self.sides.values():
            packets = side.packets
            for addr, a in list(side.answers.items()):
                while a.next < len(packets) and a.t0 + packets[a.next][0] <= now:
                    due = a.t0 + packets[a.next][0]
                    try:
                        side.rtp_sock.sendto(packets[a.next][1], addr)
                    except OSError:
                        side.send_errors += 1
                    sent = time.time()
                    if sent - due > 0.010:
                        side.late_sends += 1
                    if a.next == side.digit_at:
                        side.digits.append((addr[1], sent))
                    a.next += 1
                if a.next >= len(packets) or now - a.last_rx > QUIET_S:
                    del side.answers[addr]
                else:
                    next_due = min(next_due, a.t0 + packets[a.next][0])
        return next_due

    def _receive(self, sock, side: Side, kind: str, until: float) -> None:
        while time.time() < until:
            try:
                data, anc, _, addr = sock.recvmsg(2048, self.cmsg_space)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            arrival, drops = None, None
            for level, ctype, cdata in anc:
                if level == socket.SOL_SOCKET and ctype == SO_TIMESTAMPNS and len(cdata) >= 16:
                    sec, nsec = struct.unpack("qq", cdata[:16])
                    arrival = sec + nsec / 1e9
                elif level == socket.SOL_SOCKET and ctype == SO_RXQ_OVFL and len(cdata) >= 4:
                    drops = struct.unpack("I", cdata[:4])[0]
            if drops is not None:
                previous = self.drops_seen.get(sock.fileno(), 0)
                side.socket_drops += max(0, drops - previous)
                self.drops_seen[sock.fileno()] = drops
            if kind == "rtp":
                _rtp(side, data, addr, arrival if arrival is not None else time.time())
            else:
                _rtcp(side, data, addr)


def _rtp(side: Side, data: bytes, addr, arrival: float) -> None:
    if len(data) < 12 or data[0] >> 6 != 2:
        return
    seq, ts, ssrc = struct.unpack("!HII", data[2:12])
    stream = side.rtp.get((addr, ssrc))
    if stream is None:
        stream = side.rtp[(addr, ssrc)] = RtpStream(first_seq=seq, max_ext=seq, last_seq=seq)
    stream.add(seq, ts, arrival)
    answer = side.answers.get(addr)
    if answer is None:  # a new engine leg: answer it from now on
        side.answers[addr] = Answer(t0=arrival, last_rx=arrival)
        side.legs += 1
    else:
        answer.last_rx = arrival


def _rtcp(side: Side, data: bytes, addr) -> None:
    pos = 0
    while pos + 8 <= len(data):
        first, pt, words = struct.unpack("!BBH", data[pos:pos + 4])
        if first >> 6 != 2:
            return
        end = pos + 4 * (words + 1)
        blocks = pos + 8 + (20 if pt == 200 else 0)  # SR: sender info before the report blocks
        if pt in (200, 201):
            for i in range(first & 0x1F):
                b = blocks + 24 * i
                if b + 24 > min(end, len(data)):
                    break
                lost_word, ext, jitter = struct.unpack("!III", data[b + 4:b + 16])
                lost = lost_word & 0xFFFFFF
                if lost & 0x800000:
                    lost -= 1 << 24
                old = side.rtcp.get(addr)
                side.rtcp[addr] = ReportBlock(lost, ext, jitter, max(jitter, old.max_jitter if old else 0),
                                              (old.reports if old else 0) + 1)
        pos = end


# --- figures ---------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q / 100 * (len(v) - 1)))))]


def summary(taken: dict) -> dict:
    """Figures of one side from take()."""
    streams = [s for s in taken["rtp"].values() if s.packets >= 10]
    expected = sum(s.expected for s in streams)
    received = sum(min(s.packets, s.expected) for s in streams)
    lost = max(0, expected - received)
    jit = [s.jitter / CLOCK_RATE * 1000 for s in streams]
    blocks = list(taken["rtcp"].values())
    rx_expected = sum(max(0, b.highest_ext_seq - rtp.FIRST_SEQ + 1) for b in blocks)
    rx_lost = sum(max(0, b.cumulative_lost) for b in blocks)
    rjit = [b.jitter / CLOCK_RATE * 1000 for b in blocks]
    return {
        "engine_tx": {
            "streams": len(streams),
            "packets": sum(s.packets for s in streams),
            "lost": lost,
            "loss_pct": round(100 * lost / expected, 4) if expected else None,
            "jitter_ms_p50": _round(pct(jit, 50)),
            "jitter_ms_p99": _round(pct(jit, 99)),
            "jitter_ms_max": _round(max((s.max_jitter / CLOCK_RATE * 1000 for s in streams), default=None)),
            "max_gap_ms": _round(max((s.max_gap_s * 1000 for s in streams), default=None)),
            "gaps_over_60ms": sum(s.gaps_over_60ms for s in streams),
        },
        "engine_rx": {
            "streams_reported": len(blocks),
            "lost": rx_lost if blocks else None,
            "loss_pct": round(100 * rx_lost / rx_expected, 4) if rx_expected else None,
            "jitter_ms_p50": _round(pct(rjit, 50)),
            "jitter_ms_p99": _round(pct(rjit, 99)),
            "jitter_ms_max": _round(max((b.max_jitter / CLOCK_RATE * 1000 for b in blocks), default=None)),
        },
        "bench": {
            "legs_answered": taken["legs"],
            "socket_drops": taken["socket_drops"],
            "late_sends_over_10ms": taken["late_sends"],
            "send_errors": taken["send_errors"],
        },
    }


def _round(v: float | None, digits: int = 2) -> float | None:
    return None if v is None else round(v, digits)
