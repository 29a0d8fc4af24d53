"""`make bench-web` (`python -m bench.web`): how fast the web admin answers with a big call store.

Fills a fresh data directory with --calls call records (default 100,000, spread over 90 days, today a
busy day; each answered or abandoned call with its queue events, operators' state changes), starts
the engine (`switchboard run --sim`, so the dashboard's live status is a real control-socket round
trip) and `switchboard web` (waitress) on free ports, logs in over HTTP, and times each page from the
request until the last byte of the answer (one keep-alive connection, requests one after another).
Prints p50/p95/p99/max per page and writes the same as JSON to bench/results/web-*.json.
"""

from __future__ import annotations

import argparse
import os
import datetime as dt
import http.client
import json
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from bench.engine import ROOT, EngineProcess
from bench.procstat import cpu_seconds
from firmware import settings as settings_mod
from firmware.store.writer import Writer
from firmware.timeutil import iso
from web.files import WebFiles

PASSWORD = "benchmark password"
TARGET_MS = 50.0
OPERATORS = [f"op{i}" for i in range(1, 9)]
DISPOSITIONS = (("answered", 0.80), ("abandoned", 0.08), ("timeout", 0.03), ("ivr_hangup", 0.06), ("rejected", 0.02),
                ("failed", 0.01))


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_rows(n: int, now: dt.datetime, today_calls: int, days: int = 365, seed: int = 1) -> tuple[list, list, list]:
    """n calls (today_calls of them today so far, the rest over the `days` days before, office hours),
    their queue events and the operators' state changes, with a fixed random seed."""
    rnd = random.Random(seed)
    calls, events, states = [], [], []
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for i in range(n):
        if i < today_calls:
            start = today + dt.timedelta(seconds=rnd.uniform(0, max(1.0, (now - today).total_seconds())))
        else:
            start = today - dt.timedelta(days=rnd.randint(1, days), seconds=-rnd.uniform(8 * 3600, 18 * 3600))
        disposition = rnd.choices([d for d, _ in DISPOSITIONS], [w for _, w in DISPOSITIONS])[0]
        call_id = f"b{i:07d}"
        row = {"id": call_id, "line": "sip", "caller_id": f"0{rnd.randint(200000000, 999999999)}", "caller_name": "",
               "dialled": "100", "source_ip": "127.0.0.1", "started_at": iso(start), "disposition": disposition,
               "path": "menu:main"}
        if disposition in ("answered", "abandoned", "timeout"):
            wait = rnd.expovariate(1 / 25)
            queued = start + dt.timedelta(seconds=8)
            row.update(queue="front-desk", queued_at=iso(queued), wait_s=round(wait, 1),
                       path="menu:main > queue:front-desk")
            events.append({"at": iso(queued), "call_id": call_id, "queue": "front-desk", "event": "enter",
                           "operator": None, "detail": ""})
            if disposition == "answered":
                op, talk = rnd.choice(OPERATORS), rnd.expovariate(1 / 180)
                connected = queued + dt.timedelta(seconds=wait)
                ended = connected + dt.timedelta(seconds=talk)
                row.update(operator=op, connected_at=iso(connected), ended_at=iso(ended), talk_s=round(talk, 1),
                           recording=f"/data/recordings/{call_id}.wav", end_reason="caller hung up")
                events += [{"at": iso(connected), "call_id": call_id, "queue": "front-desk", "event": e,
                            "operator": op, "detail": ""} for e in ("ring", "connect")]
                events.append({"at": iso(ended), "call_id": call_id, "queue": "front-desk", "event": "complete",
                               "operator": op, "detail": ""})
                states += [{"at": iso(ended), "operator": op, "state": "wrapup", "reason": "", "call_id": call_id},
                           {"at": iso(ended + dt.timedelta(seconds=10)), "operator": op, "state": "ready",
                            "reason": "", "call_id": None}]
            else:
                ended = queued + dt.timedelta(seconds=wait)
                row.update(ended_at=iso(ended), talk_s=0.0, end_reason=disposition)
                events.append({"at": iso(ended), "call_id": call_id, "queue": "front-desk",
                               "event": "abandon" if disposition == "abandoned" else "timeout", "operator": None,
                               "detail": ""})
        else:
            row.update(ended_at=iso(start + dt.timedelta(seconds=6)), talk_s=0.0, end_reason=disposition)
        calls.append(row)
    return calls, events, states


def fill(data_dir: Path, n: int, today_calls: int) -> float:
    """The store with n calls, written by the store's own writer in one transaction; seconds taken."""
    started = time.monotonic()
    calls, events, states = make_rows(n, dt.datetime.now(dt.timezone.utc), today_calls)
    writer = Writer(data_dir)
    try:
        writer.save_config(settings_mod.to_toml(settings_mod.demo()), "bench")
        writer.submit(lambda db: (db["calls"].insert_all(calls, batch_size=2000),
                                  db["queue_events"].insert_all(events, batch_size=2000),
                                  db["operator_log"].insert_all(states, batch_size=2000)), wait=True, timeout=600)
    finally:
        writer.close()
    return time.monotonic() - started


class Browser:
    """One keep-alive HTTP connection with the session cookie."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str, dict]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode(errors="replace")
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        return response.status, text, dict(response.getheaders())

    def log_in(self) -> None:
        _, page, _ = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _, _ = self.request("POST", "/login", {"password": PASSWORD, "csrf_token": token})
        if status != 302:
            raise RuntimeError(f"log-in failed: HTTP {status}")


def pages(today: str, week_ago: str) -> dict[str, str]:
    return {
        "dashboard": "/",
        "dashboard poll (/api/status)": "/api/status",
        "calls, first page": "/calls",
        "calls, page 100": "/calls?page=100",
        "calls, one operator": "/calls?operator=op3",
        "calls, abandoned": "/calls?disposition=abandoned",
        "calls, last 7 days": f"/calls?from={week_ago}&to={today}",
        "calls, caller search": "/calls?caller=4567",
    }


def measure(browser: Browser, path: str, n: int, pids: dict[str, int], warmup: int = 10) -> dict:
    """Times of n requests, and the CPU the web admin and the engine spent on them (per request: a
    figure the machine's other load hardly changes, unlike the wall-clock percentiles)."""
    for _ in range(warmup):
        browser.request("GET", path)
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    times, sizes = [], []
    for _ in range(n):
        started = time.perf_counter()
        status, text, _ = browser.request("GET", path)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"{path}: HTTP {status}")
        sizes.append(len(text))
    cpu = {f"{name}_cpu_ms_per_request": round((cpu_seconds(pid) - cpu_before[name]) * 1000 / n, 2)
           for name, pid in pids.items()}
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(round(q * (len(times) - 1))))]  # noqa: E731
    return {"path": path, "requests": n, "p50_ms": round(statistics.median(times), 2), "p95_ms": round(pick(0.95), 2),
            "p99_ms": round(pick(0.99), 2), "max_ms": round(times[-1], 2), "bytes": sizes[0], **cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="call records in the store (default 100000)")
    parser.add_argument("--today", type=int, default=1000,
                        help="of those, calls today (the dashboard's figures; default 1000, a busy day: the year's "
                             "average is calls/365)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page (default 300)")
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs the engine and the web admin")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for the JSON results")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        print(f"filling the store with {args.calls} calls ...", flush=True)
        load_before = os.getloadavg()
        fill_s = fill(data_dir, args.calls, min(args.today, args.calls))
        WebFiles(data_dir / "web").set_password(PASSWORD)
        engine = EngineProcess(args.python, data_dir, free_port(socket.SOCK_DGRAM), Path(tmp) / "engine.log").start()
        web_port = free_port()
        web_log = open(Path(tmp) / "web.log", "ab")
        web = subprocess.Popen([args.python, "-m", "firmware.cli", "--data-dir", str(data_dir), "web", "--port",
                                str(web_port)], cwd=ROOT, stdout=web_log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", web_port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or web.poll() is not None:
                        raise RuntimeError("switchboard web did not start")
                    time.sleep(0.1)
            browser = Browser(web_port)
            browser.log_in()
            today = dt.date.today()
            results = []
            for name, path in pages(today.isoformat(), (today - dt.timedelta(days=6)).isoformat()).items():
                result = {"page": name, **measure(browser, path, args.requests, {"web": web.pid, "engine": engine.pid})}
                results.append(result)
                print(f"  {name:<30} p50 {result['p50_ms']:7.2f} ms  p95 {result['p95_ms']:7.2f} ms  "
                      f"p99 {result['p99_ms']:7.2f} ms  max {result['max_ms']:7.2f} ms  {result['bytes']:>6} B  "
                      f"CPU/request: web {result['web_cpu_ms_per_request']:5.2f} ms, engine "
                      f"{result['engine_cpu_ms_per_request']:5.2f} ms", flush=True)
        finally:
            web.terminate()
            web.wait(10)
            web_log.close()
            engine.stop()
        db_mb = sum(p.stat().st_size for p in data_dir.glob("switchboard.db*")) / 1e6
    worst = max(r["p99_ms"] for r in results)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (before: {load_before[0]:.1f}); "
          "other work on the machine shows in these times")
    print(f"store: {args.calls} calls ({min(args.today, args.calls)} today, the rest over a year), {db_mb:.1f} MB (filled in {fill_s:.1f} s); worst p99 {worst:.1f} ms "
          f"({'within' if worst <= TARGET_MS else 'OVER'} the {TARGET_MS:.0f} ms target)")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"web-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({
        "benchmark": "web admin response times", "calls": args.calls, "calls_today": min(args.today, args.calls), "requests_per_page": args.requests,
        "db_mb": round(db_mb, 1), "target_p99_ms": TARGET_MS, "results": results,
        "host": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                 "python": platform.python_version(), "kernel": platform.release(),
                 "load_average_before": load_before, "load_average_after": os.getloadavg()},
        "method": "one keep-alive HTTP/1.1 connection to switchboard web (waitress), requests one after another, "
                  "timed from sending the request to the last byte; the engine runs (the dashboard asks it for "
                  "its status over the control socket); 10 untimed warm-up requests per page; CPU per request from "
                  "/proc/<pid>/stat of the web admin and of the engine over the timed requests (the engine's includes its "
                  "idle loop, about 1 ms per request at these rates)"}, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
