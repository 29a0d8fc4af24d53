"""SIP times on the wire: a packet capture of the engine's SIP port on loopback.

SIPp's log times add SIPp's own scheduling to every figure (about 1.5-2 ms at 30 calls on two cores,
far more when the host stalls it); the kernel's capture timestamps say when an INVITE reached the
engine's socket and when the engine's answer left it. Only the engine's SIP port is captured (tcpdump's
filter runs in the kernel): the RTP is not copied.
"""

from __future__ import annotations

import re
import shutil
import signal
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

LINKTYPE_ETHERNET = 1  # what tcpdump records on Linux's lo
_CALL_ID = re.compile(r"\r\n(?:Call-ID|i)[ \t]*:[ \t]*(\S+)", re.I)
_CSEQ = re.compile(r"\r\nCSeq[ \t]*:[ \t]*\d+[ \t]+(\w+)", re.I)
_RURI_USER = re.compile(r"^INVITE sips?:([^@;>\s]+)@", re.I)


@dataclass(frozen=True)
class Message:
    t: float          # kernel timestamp, seconds since the epoch
    src: int          # UDP ports
    dst: int
    first_line: str
    call_id: str
    method: str       # of the CSeq: INVITE, ACK, BYE, ...


class Capture:
    """tcpdump writing every SIP packet to or from `port` on lo into `path`, one packet at a time (-U),
    so the file can be read while the capture runs."""

    def __init__(self, proc: subprocess.Popen, path: Path):
        self.proc, self.path = proc, path
        self._stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    @classmethod
    def start(cls, port: int, path: Path, timeout_s: float = 5.0) -> "Capture | str":
        """A running capture, or why there is none (no tcpdump, no permission to capture)."""
        tcpdump = shutil.which("tcpdump") or next(
            (p for p in ("/usr/sbin/tcpdump", "/usr/bin/tcpdump") if Path(p).exists()), None)
        if tcpdump is None:
            return "tcpdump is not installed (Debian package tcpdump)"
        proc = subprocess.Popen([tcpdump, "-i", "lo", "-n", "-U", "-B", "4096", "-s", "4096", "-w", str(path),
                                 f"udp port {port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        capture = cls(proc, path)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any("listening on" in line for line in capture._stderr):
                return capture
            if proc.poll() is not None:
                time.sleep(0.1)  # the rest of its complaint
                return "tcpdump could not capture on lo: " + " ".join(capture._stderr).strip()[-300:]
            time.sleep(0.02)
        capture.stop()
        return f"tcpdump did not start capturing within {timeout_s:g} s"

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self._stderr.append(line.strip())

    def messages(self) -> list[Message]:
        return read(self.path)

    def stop(self) -> dict:
        """Stops tcpdump; what it reports (packets captured, dropped by the kernel)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.05)
        counts = {}
        for line in self._stderr:
            m = re.match(r"(\d+) packets? (captured|received by filter|dropped by kernel)", line)
            if m:
                counts[m.group(2).replace(" ", "_")] = int(m.group(1))
        return counts


def read(path: Path) -> list[Message]:
    """The SIP messages in a pcap file of IPv4/UDP on Ethernet framing; a record cut short at the end
    (the capture still running) is left out."""
    data = path.read_bytes() if path.exists() else b""
    if len(data) < 24:
        return []
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: link type {linktype}, expected Ethernet framing (tcpdump -i lo)")
    out, pos, header = [], 24, struct.Struct(endian + "IIII")
    while pos + 16 <= len(data):
        sec, frac, caplen, _ = header.unpack_from(data, pos)
        pos += 16
        if pos + caplen > len(data):
            break
        message = _sip(sec + frac / (1e9 if nano else 1e6), data[pos:pos + caplen])
        pos += caplen
        if message is not None:
            out.append(message)
    return out


def _sip(t: float, frame: bytes) -> Message | None:
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":  # IPv4 only: the engine listens on 127.0.0.1
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 17:  # UDP
        return None
    src, dst = struct.unpack_from(">HH", ip, ihl)
    text = ip[ihl + 8:].decode("latin-1")
    call_id, cseq = _CALL_ID.search(text), _CSEQ.search(text)
    if call_id is None or cseq is None:
        return None
    return Message(t, src, dst, text.split("\r\n", 1)[0], call_id.group(1), cseq.group(1).upper())


def answer_times_ms(messages: list[Message], port: int, t0: float, t1: float) -> list[float]:
    """ms from each INVITE reaching `port` (first sending, between t0 and t1) to the first 200 for it
    leaving `port`."""
    invites, answers = {}, {}
    for m in messages:
        if m.dst == port and m.first_line.startswith("INVITE ") and t0 <= m.t <= t1:
            invites.setdefault(m.call_id, m.t)
        elif m.src == port and m.first_line.startswith("SIP/2.0 200") and m.method == "INVITE":
            answers.setdefault(m.call_id, m.t)
    return [1000 * (answers[c] - t) for c, t in invites.items() if c in answers]


def invites_sent(messages: list[Message], port: int) -> dict[str, list[float]]:
    """When `port` sent each new INVITE (not its retransmissions), by the user of its request URI."""
    seen, out = set(), {}
    for m in messages:
        user = _RURI_USER.match(m.first_line) if m.src == port else None
        if user and m.call_id not in seen:
            seen.add(m.call_id)
            out.setdefault(user.group(1), []).append(m.t)
    return out
