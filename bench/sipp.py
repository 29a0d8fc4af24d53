"""SIPp as the benchmark's callers (UAC) and operators (UAS): scenarios, processes, their logs."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent / "sipp"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def media_base(attempts: int = 50) -> int:
    """A port p with p and p+2 free on 127.0.0.1: SIPp binds both for RTP echo, which the benchmark
    does not use (bench.media does the RTP), but SIPp needs them free."""
    for _ in range(attempts):
        base = free_udp_port()
        if base + 2 > 65535:
            continue
        socks = []
        try:
            for p in (base, base + 2):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no free media port block found in {attempts} attempts")


def render(template: str, dest: Path, **tokens) -> Path:
    text = (HERE / template).read_text()
    for key, value in tokens.items():
        text = text.replace(f"@{key}@", str(value))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise ValueError(f"{template}: tokens left unfilled: {sorted(set(left))}")
    dest.write_text(text)
    return dest


class Sipp:
    """One SIPp process; its logs go to `folder`."""

    def __init__(self, name: str, folder: Path, args: list[str]):
        self.name, self.folder = name, folder
        self.logs = folder / f"{name}_logs.log"
        self.errors = folder / f"{name}_errors.log"
        self.out = folder / f"{name}.out"
        self.args = ["sipp", *args, "-nostdin", "-f", "10", "-trace_logs", "-log_file", str(self.logs),
                     "-trace_err", "-error_file", str(self.errors)]
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(self.args, cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def finish(self, timeout: float) -> int:
        """SIGUSR1: SIPp creates no new calls and exits once its calls are over."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
        return self.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def tail(self, n: int = 2000) -> str:
        text = ""
        for path in (self.errors, self.out):
            if path.exists():
                text += f"--- {path.name}\n" + path.read_text(errors="replace")[-n:]
        return text


def operators(folder: Path, port: int, rtp_port: int) -> Sipp:
    """The SIPp UAS for every operator URI sip:opN@127.0.0.1:port; its SDP names rtp_port."""
    scenario = render("operator.xml", folder / "operator.xml", RTP_PORT=rtp_port)
    return Sipp("operator", folder, ["-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port),
                                     "-mi", "127.0.0.1", "-mp", str(media_base())])


def callers(folder: Path, engine_port: int, rtp_port: int, prefix: str, call_ms: int,
            limit: int, rate: float, total: int | None, timeout_s: int) -> Sipp:
    """The SIPp UAC: `limit` calls at once, `rate` new calls a second, `total` calls (None: until
    told to finish); caller ids prefix + call number; its SDP names rtp_port."""
    scenario = render("caller.xml", folder / "caller.xml", CALLER_PREFIX=prefix, CALL_MS=call_ms,
                      RTP_PORT=rtp_port)
    args = [f"127.0.0.1:{engine_port}", "-sf", str(scenario), "-s", "100", "-i", "127.0.0.1",
            "-p", str(free_udp_port()), "-mi", "127.0.0.1", "-mp", str(media_base()),
            "-l", str(limit), "-r", f"{rate:g}", "-rp", "1000", "-timeout", f"{timeout_s}s"]
    if total is not None:
        args += ["-m", str(total)]
    return Sipp("caller", folder, args)


@dataclass
class Log:
    """The <log> lines of a run: times[kind][key] = [epoch seconds, ...] in file order, and the words
    after the timestamp in extra[kind][key] = [[word, ...], ...]."""

    times: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    extra: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))

    def first(self, kind: str, key: str) -> float | None:
        values = self.times[kind].get(key)
        return values[0] if values else None

    def keys(self, kind: str) -> list[str]:
        return list(self.times[kind])


def read_log(path: Path) -> Log:
    """Lines such as 'answered 12 2026-01-01<TAB>10:00:00.123456<TAB>1767261600.123456 4002 ...'."""
    log = Log()
    if not path.exists():
        return log
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        try:
            log.times[parts[0]][parts[1]].append(float(parts[4]))
        except ValueError:
            continue
        log.extra[parts[0]][parts[1]].append(parts[5:])
    return log
