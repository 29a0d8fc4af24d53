"""The modem path under load: N analog lines on simulated voice modems, all in a call at once.

    python -m bench modem [--lines 4] [--seconds 30] [--idle-seconds 10] [--python PY] [--out DIR]

One engine (`switchboard run --sim`) with N modem lines, each a simulated V.253 modem on a pty opened
through pyserial (the driver's real code path), and N simulated headset stations. The simulated
exchange rings every line with caller ID; each caller speaks a tone and presses 1 (as DLE digits), is
queued and connected to a station (a looping voice prompt and a recorder), and the call is recorded.
While every call is connected it measures:

- engine CPU (`/proc/<pid>/stat`) net of the idle engine, in % of one core, per modem line; the
  figure holds everything a modem call costs in the engine: the driver's reader and writer threads,
  its disconnect guards over the audio, the media port callbacks, the station and the recording, and
  the simulated modem itself (a thread in the engine process; real hardware would not cost that);
- the bridge's frame timing: intervals between the modem port's onFrameRequested callbacks (the
  conference bridge's 20 ms clock as the modem path sees it): p50, p99, max, mean deviation from
  20 ms, and how many came 40 ms or more after the previous one;
- the frame buffers both ways: underruns, overruns, trimmed frames, the adaptive pre-fill reached.

Then the far ends hang up by busy tone and every call record is checked (answered, recorded).
A table on stdout, the same as JSON in bench/results/ (`modem-*.json`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import procstat
from bench.engine import EngineProcess
from firmware import settings as settings_mod

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CALLER_HZ = (600, 700, 900, 1100, 1200, 1400, 1600, 1800)
STATION_HZ = (1300, 1500, 1700, 1900, 2100, 2300, 2500, 2700)


def config(lines: int) -> str:
    """N modem lines to one menu (option 1: queue `bench`), N auto-answering stations, recording on."""
    stations = [f"st{i}" for i in range(1, lines + 1)]
    data = {
        "sip": {"address": "127.0.0.1"},
        "prompts": {"menu": {"tone_hz": 350, "seconds": 0.3}, "music": {"tone_hz": 800, "seconds": 2.0},
                    **{f"voice-{s}": {"tone_hz": STATION_HZ[i % len(STATION_HZ)], "seconds": 2.0}
                       for i, s in enumerate(stations)}},
        "lines": [{"name": f"m{i}", "kind": "modem", "device": f"/dev/ttyACM{i - 1}", "answer_after_rings": 2,
                   "routes": [{"number": "*", "day_menu": "main"}]} for i in range(1, lines + 1)],
        "menus": [{"name": "main", "prompt": "menu", "options": {"1": "queue:bench"}, "timeout_s": 15,
                   "retries": 0, "on_noinput": "hangup", "on_invalid": "hangup"}],
        "queues": [{"name": "bench", "operators": stations, "strategy": "ring_all", "ring_timeout_s": 10,
                    "retry_delay_s": 0.5, "wrapup_s": 0, "max_wait_s": 120, "fallback": "hangup",
                    "music": "music", "record": True, "autopause_after": 0}],
        "operators": [{"name": s, "kind": "station", "auto_answer_s": 0.5, "voice": f"voice-{s}"} for s in stations],
    }
    return settings_mod.to_toml(settings_mod.from_dict(data))


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")


def line_diagnostics(engine: EngineProcess, name: str) -> dict:
    return json.loads(engine.cli("line", name, "--json").stdout)["diagnostics"]


def run(args) -> dict:
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="switchboard-bench-modem-"))
    work.mkdir(parents=True, exist_ok=True)
    names = [f"m{i}" for i in range(1, args.lines + 1)]
    engine = EngineProcess(args.python, work / "data", _free_port(), work / "engine.log")
    report: dict = {"kind": "modem", "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "machine": procstat.machine(), "lines": args.lines, "seconds": args.seconds}
    try:
        engine.import_config(config(args.lines), work / "box.toml")
        engine.start()
        wait_until(lambda: all(line_diagnostics(engine, n)["state"] == "idle" for n in names), 60,
                   "every modem line up")
        time.sleep(args.settle_seconds)
        report["idle"] = _cpu(engine.pid, args.idle_seconds)
        for index, name in enumerate(names):
            engine.cli("sim", "line", name, "voice", str(CALLER_HZ[index % len(CALLER_HZ)]))
            engine.cli("sim", "ring", name, "--caller-id", f"55501{index:02d}", "--digits", "1",
                       "--digit-delay", "1.5")
        wait_until(lambda: sum(c["state"] == "connected" for c in engine.status()["calls"]) == args.lines,
                   60, f"{args.lines} calls connected")
        time.sleep(1.0)  # the pre-fills and the first trims
        host0 = procstat.host_cpu()
        report["connected"] = _cpu(engine.pid, args.seconds)
        host1 = procstat.host_cpu()
        report["host_busy_pct_of_all_cpus"] = round(
            100 * (host1["busy"] - host0["busy"]) / max(1e-9, host1["total"] - host0["total"]), 1)
        report["per_line"] = {name: _line_figures(line_diagnostics(engine, name)) for name in names}
        for name in names:
            engine.cli("sim", "line", name, "busy")
        report["drained"] = engine.wait_idle(60)
        report["records"] = _records(engine, args.lines)
    finally:
        report["engine_exit_code"] = engine.stop()
        report["engine_log_problems"] = engine.log_problems()[:20]
        if not (args.work_dir or args.keep):
            shutil.rmtree(work, ignore_errors=True)
    net = report["connected"]["cpu_rate"] - report["idle"]["cpu_rate"]
    report["cpu_pct_of_core_per_line"] = round(100 * net / args.lines, 2)
    report["bridge_frames"] = _overall(report["per_line"])
    report["method"] = {
        "cpu": "engine CPU-seconds over the window with every call connected, minus the idle engine's rate, "
               "divided by the lines; includes the simulated modems (threads in the engine process)",
        "bridge_frames": "intervals between the modem ports' onFrameRequested callbacks since each call's "
                         "stream started (the bridge takes no frame from a line while its call is in the IVR)",
        "buffers": "drivers.modem.audio.FrameBuffer counters since each call's stream started",
    }
    return report


def _free_port() -> int:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu(pid: int, seconds: float) -> dict:
    c0, t0 = procstat.cpu_seconds(pid), time.time()
    time.sleep(seconds)
    c1, t1 = procstat.cpu_seconds(pid), time.time()
    rate = (c1 - c0) / (t1 - t0)
    return {"seconds": round(t1 - t0, 1), "cpu_rate": rate, "cpu_pct_of_core": round(100 * rate, 2),
            "rss_mb": round(procstat.memory_kb(pid)["VmRSS"] / 1024, 1), "threads": procstat.thread_count(pid)}


def _line_figures(diag: dict) -> dict:
    keep = ("underruns", "overruns", "trimmed", "prefill", "frames_in", "frames_out")
    return {"state": diag["state"], "bridge_frames": diag["bridge_frames"],
            "rx": {k: diag["rx"][k] for k in keep}, "tx": {k: diag["tx"][k] for k in keep},
            "max_receive_gap_ms": diag["audio"]["max_receive_gap_ms"]}


def _overall(per_line: dict) -> dict:
    frames = [line["bridge_frames"] for line in per_line.values() if line["bridge_frames"]["p50_ms"] is not None]
    if not frames:
        return {}
    return {"ticks": sum(f["ticks"] for f in frames), "late": sum(f["late"] for f in frames),
            "p50_ms_worst_line": max(f["p50_ms"] for f in frames),
            "p99_ms_worst_line": max(f["p99_ms"] for f in frames), "max_ms": max(f["max_ms"] for f in frames),
            "jitter_ms_mean": round(sum(f["jitter_ms"] for f in frames) / len(frames), 3),
            "underruns": sum(line["rx"]["underruns"] + line["tx"]["underruns"] for line in per_line.values())}


def _records(engine: EngineProcess, lines: int) -> dict:
    rows = json.loads(engine.cli("calls", "--json", "--limit", str(lines)).stdout)
    good = [r for r in rows if r["disposition"] == "answered" and r["recording"] and Path(r["recording"]).exists()]
    return {"calls": len(rows), "answered_and_recorded": len(good),
            "end_reasons": sorted({r["end_reason"] or "" for r in rows})}


def table(report: dict) -> str:
    out = [f"modem path: {report['lines']} simulated modem lines, every call connected for "
           f"{report['connected']['seconds']} s ({report['machine'].get('cpu_model', '?')}, "
           f"{report['machine'].get('cpus', '?')} CPUs)",
           f"  engine CPU idle {report['idle']['cpu_pct_of_core']} %, with the calls "
           f"{report['connected']['cpu_pct_of_core']} % of one core -> "
           f"{report['cpu_pct_of_core_per_line']} % per modem line (host busy {report['host_busy_pct_of_all_cpus']} %)",
           f"  {'line':<6} {'ticks':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'jitter':>7} {'late':>5}"
           f" {'rx un/ov/trim':>14} {'tx un/ov/trim':>14} {'pre-fill':>9}"]
    for name, line in report["per_line"].items():
        f, rx, tx = line["bridge_frames"], line["rx"], line["tx"]
        out.append(f"  {name:<6} {f['ticks']:>6} {f['p50_ms'] or '-':>7} {f['p99_ms'] or '-':>7} {f['max_ms'] or '-':>7}"
                   f" {f['jitter_ms'] or '-':>7} {f['late']:>5}"
                   f" {rx['underruns']:>4}/{rx['overruns']:>4}/{rx['trimmed']:>4} {tx['underruns']:>4}/{tx['overruns']:>4}"
                   f"/{tx['trimmed']:>4} {rx['prefill']:>4}/{tx['prefill']:<4}")
    rec = report["records"]
    out.append(f"  calls: {rec['answered_and_recorded']} of {rec['calls']} answered and recorded "
               f"({', '.join(rec['end_reasons'])}); engine exit {report['engine_exit_code']}")
    return "\n".join(out)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench modem", description=__doc__.split("\n\n")[0])
    p.add_argument("--lines", type=int, default=4, help="modem lines in a call at once (default 4)")
    p.add_argument("--seconds", type=float, default=30, help="measuring window with every call connected")
    p.add_argument("--idle-seconds", type=float, default=10, help="idle-engine CPU measurement first")
    p.add_argument("--settle-seconds", type=float, default=3, help="wait after start-up before measuring idle")
    p.add_argument("--python", default=sys.executable, help="the interpreter whose pjsua2 runs the engine")
    p.add_argument("--out", default=str(RESULTS), help="folder for the JSON result")
    p.add_argument("--work-dir", default=None, help="keep everything (logs, recordings) here")
    p.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not 1 <= args.lines <= 8:
        print("--lines: between 1 and 8", file=sys.stderr)
        return 2
    report = run(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"modem-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(table(report))
    print(f"JSON: {path}")
    return 0 if report["records"]["answered_and_recorded"] == args.lines and report["engine_exit_code"] == 0 else 1
