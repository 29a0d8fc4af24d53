"""What /proc says about the engine process and the machine (Linux only)."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in kB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1])
    return out


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """{thread id: (thread name, utime + stime seconds)} of every thread of a process."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
            fields = tail.split()
            out[int(tid)] = (head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / CLK_TCK)
        except (OSError, IndexError, ValueError):
            pass  # the thread ended meanwhile
    return out


def thread_cpu_delta(before: dict, after: dict, seconds: float) -> list[dict]:
    """Each thread's share of one core between two thread_cpu() readings, busiest first."""
    rows = []
    for tid, (name, cpu) in after.items():
        used = cpu - before.get(tid, (name, 0.0))[1]
        rows.append({"tid": tid, "name": name, "cpu_pct_of_core": round(100 * used / max(seconds, 1e-9), 2)})
    return sorted(rows, key=lambda r: -r["cpu_pct_of_core"])


def host_cpu() -> dict[str, float]:
    """Seconds of all CPUs from /proc/stat (everything on the machine, not only ours): busy, total,
    steal (a virtual machine's CPUs taken away by the hypervisor), and the kernel's CPU pressure
    stall time (/proc/pressure/cpu "some": time in which a task waited for a CPU)."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]] + [0] * 8
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    out = {"busy": (total - idle - values[7]) / CLK_TCK, "total": total / CLK_TCK, "steal": values[7] / CLK_TCK,
           "pressure": None}
    try:
        with open("/proc/pressure/cpu") as f:
            some = f.readline().split()
        out["pressure"] = int(some[-1].split("=")[1]) / 1e6
    except (OSError, IndexError, ValueError):
        pass
    return out


def own_cpu() -> tuple[float, float]:
    """(this process, its finished children) CPU seconds: SIPp's processes count once reaped."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def udp_counters() -> dict[str, int]:
    """The host's UDP counters from /proc/net/snmp (all sockets of the machine, not only ours)."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])}


def udp_delta(before: dict, after: dict) -> dict:
    keys = ("InDatagrams", "OutDatagrams", "InErrors", "RcvbufErrors", "SndbufErrors", "NoPorts")
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys if k in after}


@dataclass
class Sample:
    wall: float
    cpu_s: float
    rss_kb: int


class Sampler:
    """Reads the engine's CPU time and RSS every `every` seconds on a thread (never touches the
    engine otherwise). samples_between() gives the ones inside a time window."""

    def __init__(self, pid: int, every: float = 0.25):
        self.pid, self.every = pid, every
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> "Sampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(Sample(time.time(), cpu_seconds(self.pid), memory_kb(self.pid)["VmRSS"]))
            except (OSError, KeyError, ValueError):
                return  # the engine is gone
            self._stop.wait(self.every)

    def between(self, t0: float, t1: float) -> list[Sample]:
        return [s for s in list(self.samples) if t0 <= s.wall <= t1]

    def cpu_rate(self, t0: float, t1: float) -> float | None:
        """CPU seconds per second inside [t0, t1], from the first and last sample in it."""
        inside = self.between(t0, t1)
        if len(inside) < 2 or inside[-1].wall - inside[0].wall < 1.0:
            return None
        return (inside[-1].cpu_s - inside[0].cpu_s) / (inside[-1].wall - inside[0].wall)


def machine() -> dict:
    model, cores = None, 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model is None:
                    model = line.split(":", 1)[1].strip()
                if line.startswith("processor"):
                    cores += 1
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(next(line for line in f if line.startswith("MemTotal")).split()[1]) // 1024
    except (OSError, StopIteration):
        pass
    debian = None
    if os.path.exists("/etc/debian_version"):
        debian = open("/etc/debian_version").read().strip()
    return {
        "cpu_model": model or platform.processor() or "unknown",
        "cpus": cores or os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "memory_mb": mem,
        "kernel": platform.release(),
        "arch": platform.machine(),
        "debian": debian,
        "hostname": platform.node(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "bench_python": sys.version.split()[0],
        "sipp": sipp_version(),
    }


def sipp_version() -> str | None:
    try:
        out = subprocess.run(["sipp", "-v"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return next((line.strip() for line in out.splitlines() if "SIPp v" in line), None)
