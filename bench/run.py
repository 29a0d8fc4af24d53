"""The load benchmark and the soak run (see README, "Benchmarks").

    python -m bench [--levels 1,10,30,60,120] [--call-seconds 20] [--idle-seconds 10] ...
    python -m bench soak [--minutes 10] [--concurrency 10] [--call-seconds 30] ...

One engine (`switchboard run --sim`, the pjsua2 of the interpreter given with --python) on
127.0.0.1; SIPp callers dial it, pass the IVR with RFC 4733 digit 1, queue and are connected to
SIPp operators; every call is recorded. Each level runs N calls at once for a fixed call length.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import audio, media, procstat, rtp, sipp, wire
from bench.engine import EngineProcess, StreamSampler, config
from firmware.telephony import streamstats

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LEVELS = "1,10,30,60,120"

NOT_MEASURED = {
    "jitter_buffer_outside_plateau": (
        "jitter-buffer underruns are counted only while every call of a level is connected (the soak: "
        "each leg without its first and last reading): pjmedia's `empty` counter also counts the "
        "prefetch before a stream's first packets and after its last, which are not underruns"),
    "engine_rx_between_reports": (
        "the engine's receive loss and jitter are its own RTCP report blocks (every ~5 s and when a "
        "stream ends); only the newest report per stream is counted, and a stream whose reports "
        "never arrived is missing from 'streams_reported'"),
    "what_peers_hear": (
        "the audio callers and operators receive is not decoded: the engine's outgoing RTP is checked "
        "for loss, jitter and gaps; its audio content only through the recordings"),
}


# --- the rig: engine, RTP, SIPp ports ----------------------------------------------------------------

class Rig:
    def __init__(self, args, operators: int):
        self.args = args
        self.work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.ivr_s = round(round(args.ivr_seconds / 0.02) * 0.02, 2)
        self.operator_port = sipp.free_udp_port()
        self.engine_port = sipp.free_udp_port()
        longest = args.call_seconds + 30  # a call longer than this (a long queue wait) loses our RTP
        self.sipps: list[sipp.Sipp] = []
        self.media = media.Media({
            "callers": rtp.stream(audio.CALLER_HZ, longest, 0x0B0C0001, digit="1", lead_s=self.ivr_s),
            "operators": rtp.stream(audio.OPERATOR_HZ, longest, 0x0B0C0002),
        }).start()
        self.engine = EngineProcess(args.python, self.work / "data", self.engine_port, self.work / "engine.log")
        try:
            self.engine.import_config(config(operators, self.operator_port), self.work / "box.toml")
            self.engine.start()
            self.status = self.engine.status()
        except BaseException:
            self.engine.kill()
            self.media.stop()
            raise
        capture = wire.Capture.start(self.engine_port, self.work / "sip.pcap")
        self.capture = capture if isinstance(capture, wire.Capture) else None
        self.wire = {"captured": self.capture is not None, "why_not": None if self.capture else capture}
        self.sampler = procstat.Sampler(self.engine.pid).start()
        self.runs = 0

    @property
    def cap(self) -> dict:
        return dict(self.status.get("capacity") or {})

    def close(self) -> dict:
        for p in self.sipps:  # left running only when a level was interrupted
            p.kill()
        self.sampler.stop()
        if self.capture:
            self.wire.update(self.capture.stop())
        code = self.engine.stop()
        self.media.stop()
        problems = self.engine.log_problems()
        return {"engine_exit_code": code, "engine_log_problems": problems[:20]}

    def idle(self, seconds: float) -> dict:
        time.sleep(self.args.settle_seconds)
        pid = self.engine.pid
        load0 = os.getloadavg()[0]
        threads0, c0, t0 = procstat.thread_cpu(pid), procstat.cpu_seconds(pid), time.time()
        time.sleep(seconds)
        c1, t1, threads1 = procstat.cpu_seconds(pid), time.time(), procstat.thread_cpu(pid)
        rate = (c1 - c0) / (t1 - t0)
        mem = procstat.memory_kb(pid)
        threads = procstat.thread_cpu_delta(threads0, threads1, t1 - t0)
        for row in threads:
            row["main"] = row["tid"] == pid  # the engine loop (pjsua2's only SIP thread)
        return {"seconds": round(t1 - t0, 1), "cpu_s": round(c1 - c0, 2), "cpu_pct_of_core": round(100 * rate, 2),
                "cpu_rate": rate, "rss_mb": round(mem["VmRSS"] / 1024, 1), "threads": procstat.thread_count(pid),
                "per_thread": threads, "loadavg_1min": [round(load0, 2), round(os.getloadavg()[0], 2)]}

    # --- one batch of calls: a level, or the whole soak -------------------------------------------
    def calls(self, label: str, limit: int, total: int | None, rate: float, duration_s: float | None = None,
              idle_rate: float = 0.0) -> dict:
        self.runs += 1
        folder = self.work / label
        folder.mkdir(parents=True, exist_ok=True)
        prefix = f"b{self.runs}n"
        pid = self.engine.pid
        ops = sipp.operators(folder, self.operator_port, self.media.port("operators"))
        self.sipps.append(ops)
        time.sleep(0.3)
        self.media.take()
        udp0, host0, own0 = procstat.udp_counters(), procstat.host_cpu(), procstat.own_cpu()
        media0 = procstat.cpu_seconds(self.media.pid)
        threads0, c0, t0 = procstat.thread_cpu(pid), procstat.cpu_seconds(pid), time.time()
        rss0 = procstat.memory_kb(pid)["VmRSS"]
        call_s = self.args.call_seconds
        ramp = (total or limit) / rate
        timeout = int((duration_s or 0) + ramp + call_s + 90)
        streams = StreamSampler(self.engine, every=self.args.stream_stats_every).start()
        uac = sipp.callers(folder, self.engine_port, self.media.port("callers"), prefix,
                           int(call_s * 1000), limit, rate, total, timeout)
        self.sipps.append(uac)
        if duration_s is None:
            uac_code = uac.wait(timeout + 15)
        else:  # soak: steady load until the time is up, then no new calls and the last ones finish
            deadline = time.monotonic() + duration_s
            while time.monotonic() < deadline and uac.proc.poll() is None:
                time.sleep(1)
            load_end = time.time()
            uac_code = uac.finish(call_s + 60)
        drained = self.engine.wait_idle(60)
        stream_samples = streams.stop()
        time.sleep(1.0)  # the last RTCP reports, the store's writer
        c1, t1, threads1 = procstat.cpu_seconds(pid), time.time(), procstat.thread_cpu(pid)
        udp1, mem = procstat.udp_counters(), procstat.memory_kb(pid)
        taken = self.media.take()
        ops_code = ops.finish(15)
        host1, own1, th1 = procstat.host_cpu(), procstat.own_cpu(), time.time()
        media1 = procstat.cpu_seconds(self.media.pid)
        result = self._figures(label, limit, prefix, ops, uac, taken["callers"]["digits"], t0, t1, c1 - c0,
                               idle_rate, mem, rss0)
        window, margin = result.pop("_plateau_window"), 0  # every leg connected throughout
        if duration_s is not None:  # soak: legs come and go; skip the readings around each one's ends
            window, margin = (t0, load_end), 1
        result["jitter_buffer"] = _jitter_buffer(stream_samples, window, streams.errors, margin)
        loop_s = threads1.get(pid, ("", 0.0))[1] - threads0.get(pid, ("", 0.0))[1]
        result["cpu"]["loop_thread_cpu_s"] = round(loop_s, 3)
        result["cpu"]["loop_thread_ms_per_call"] = round(1000 * loop_s / result["attempted"], 2) if result["attempted"] else None
        result["udp_host"] = procstat.udp_delta(udp0, udp1)
        cores = len(os.sched_getaffinity(0))
        result["machine_load"] = {
            "host_busy_pct_of_all_cpus": round(100 * (host1["busy"] - host0["busy"])
                                               / max(1e-9, host1["total"] - host0["total"]), 1),
            "host_steal_pct_of_all_cpus": round(100 * (host1["steal"] - host0["steal"])
                                                / max(1e-9, host1["total"] - host0["total"]), 1),
            "cpu_pressure_pct_of_time": (round(100 * (host1["pressure"] - host0["pressure"]) / max(1e-9, th1 - t0), 1)
                                         if host0["pressure"] is not None else None),
            "bench_media_cpu_s": round(media1 - media0, 2),
            "bench_main_cpu_s": round(own1[0] - own0[0], 2),
            "sipp_cpu_s": round(own1[1] - own0[1], 2),
            "engine_cpu_s": result["cpu"]["engine_cpu_s"],
            "cpus": cores,
            "note": "host busy includes everything on the machine (other users too) but not the recordings' "
                    "analysis (done after the level); steal: CPU time the hypervisor took from this "
                    "virtual machine; CPU pressure: share of the time some task waited for a CPU. Late "
                    "sends of bench.media and engine RTP gaps over 60 ms together with steal or pressure "
                    "point at the machine, not the engine",
        }
        result["rtp"] = {name: media.summary(t) for name, t in taken.items()}
        result["sipp"] = {"caller_exit": uac_code, "operator_exit": ops_code, "engine_drained": drained}
        if duration_s is not None:
            result["_load_end"] = load_end
        if uac_code not in (0, 1) or not drained:
            result["sipp"]["caller_tail"] = uac.tail()
        return result

    def _figures(self, label, limit, prefix, ops, uac, digits, t0, t1, cpu_s, idle_rate, mem, rss0) -> dict:
        clog, olog = sipp.read_log(uac.logs), sipp.read_log(ops.logs)
        sip = self.capture.messages() if self.capture else []
        sent = wire.invites_sent(sip, self.engine_port)
        rows = self._rows(prefix, wait_s=10)
        digits_by_port: dict[int, list[float]] = {}
        for port, t in digits:
            digits_by_port.setdefault(port, []).append(t)
        calls, invite_ms, dtmf_ms, dtmf_wire_ms, failures = [], [], [], [], {}
        for n in clog.keys("invite"):
            row = rows.get(prefix + n)
            call = {"n": n}
            t_inv, t_200 = clog.first("invite", n), clog.first("answered", n)
            if t_inv is not None and t_200 is not None:
                invite_ms.append(1000 * (t_200 - t_inv))
            t_dtmf = _digit_time(clog, n, t_200, digits_by_port, self.ivr_s)
            if t_dtmf is not None and row and row["rings"]:
                for times, into in ((olog.times["invite"], dtmf_ms), (sent, dtmf_wire_ms)):
                    d = _dtmf_to_invite(t_dtmf, row["rings"][0], times)
                    if d is not None:
                        into.append(d)
            ok = (clog.first("done", n) is not None and row is not None and row["disposition"] == "answered"
                  and row["recording"] and Path(row["recording"]).exists())
            if not ok:
                why = ("no 200 to INVITE" if t_200 is None else "no engine record" if row is None
                       else f"engine: {row['disposition']} ({row['end_reason']})" if row["disposition"] != "answered"
                       else "no 200 to BYE" if clog.first("done", n) is None else "no recording")
                failures[why] = failures.get(why, 0) + 1
            call["ok"] = ok
            call["row"] = row
            calls.append(call)
        completed = [c for c in calls if c["ok"]]
        # CPU: whole batch (set-up, IVR, queue, talk, tear-down) and the plateau with every call connected
        wall = t1 - t0
        net = cpu_s - idle_rate * wall
        call_seconds = sum(c["row"]["duration_s"] for c in calls if c["row"] and c["row"]["duration_s"])
        connected = [c["row"]["connected"] for c in completed if c["row"]["connected"]]
        byes = [clog.first("bye", c["n"]) for c in completed if clog.first("bye", c["n"])]
        plateau, window = None, None
        if connected and byes and len(completed) == len(calls):
            a, b = max(connected) + 0.5, min(byes) - 0.5
            window = (a, b)
            rate = self.sampler.cpu_rate(a, b)
            if rate is not None:
                plateau = {"calls": len(completed), "seconds": round(b - a, 1),
                           "cpu_pct_of_core": round(100 * rate, 2),
                           "net_cpu_s_per_call_minute": round((rate - idle_rate) * 60 / len(completed), 4)}
        samples = self.sampler.between(t0, t1)
        recs = [audio.check(c["row"]["recording"]) for c in completed]
        return {
            "label": label,
            "concurrency": limit,
            "attempted": len(calls),
            "completed": len(completed),
            "failed": len(calls) - len(completed),
            "failures": failures,
            "wall_s": round(wall, 1),
            "call_minutes": round(call_seconds / 60, 2),
            "cpu": {
                "engine_cpu_s": round(cpu_s, 2),
                "net_cpu_s": round(net, 2),
                "net_cpu_s_per_call_minute": round(net / (call_seconds / 60), 4) if call_seconds else None,
                "plateau": plateau,
            },
            "memory": {
                "rss_start_mb": round(rss0 / 1024, 1),
                "rss_max_mb": round(max([s.rss_kb for s in samples] + [rss0]) / 1024, 1),
                "peak_rss_mb": round(mem["VmHWM"] / 1024, 1),
                "rss_end_mb": round(mem["VmRSS"] / 1024, 1),
            },
            "invite_to_200_ms": _dist(invite_ms),
            "dtmf_to_operator_invite_ms": _dist(dtmf_ms),
            "wire": {"invite_to_200_ms": _dist(wire.answer_times_ms(sip, self.engine_port, t0, t1)),
                     "dtmf_to_operator_invite_ms": _dist(dtmf_wire_ms)} if self.capture else None,
            "recordings": _recordings(recs),
            "_samples": [(s.wall, s.rss_kb) for s in samples],
            "_plateau_window": window,
        }

    def _rows(self, prefix: str, wait_s: float) -> dict:
        """Engine call records of this batch by caller id, once all are closed (or wait_s passed)."""
        from firmware.store import db as dbmod, queries
        deadline = time.monotonic() + wait_s
        while True:
            db = dbmod.open_read(self.engine.data_dir)
            sql = "select * from calls where caller_id like ?"
            rows = [dict(r) for r in db.execute(sql, [prefix + "%"]).fetchall()]
            if all(r["ended_at"] for r in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        out = {}
        for r in rows:
            if not r["caller_id"][len(prefix):].isdigit():
                continue  # b1n1... must not take b1n10's rows: like 'b1n%' matches only this prefix
            events = queries.queue_events(db, r["id"])
            r["rings"] = [(e["operator"], _epoch(e["at"])) for e in events if e["event"] == "ring"]
            r["connected"] = _epoch(r["connected_at"]) if r.get("connected_at") else None
            r["duration_s"] = (_epoch(r["ended_at"]) - _epoch(r["started_at"])) if r.get("ended_at") else None
            out[r["caller_id"]] = r
        return out


def _epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


def _digit_time(clog: sipp.Log, n: str, t_200: float | None, digits_by_port: dict, ivr_s: float) -> float | None:
    """When bench.media sent call n's digit: the first digit sent to the engine RTP port named in
    that call's 200 OK, after the 200."""
    extra = clog.extra["answered"].get(n)
    if t_200 is None or not extra or not extra[0] or not extra[0][0].isdigit():
        return None
    times = [t for t in digits_by_port.get(int(extra[0][0]), []) if t_200 - 1 <= t <= t_200 + ivr_s + 10]
    return min(times) if times else None


def _dtmf_to_invite(t_dtmf: float, ring: tuple[str, float], invites: dict[str, list[float]]) -> float | None:
    """ms from the digit's first RTP packet to the operator INVITE (invites: times by operator, as the
    SIPp UAS logged their arrival or as the capture saw them leave the engine): the INVITE to the rung
    operator (the engine's first `ring` event) after the digit and nearest the engine's ring time."""
    operator, ring_at = ring
    times = [t for t in invites.get(operator, []) if t_dtmf <= t <= t_dtmf + 30]
    if not times:
        return None
    return 1000 * (min(times, key=lambda t: abs(t - ring_at)) - t_dtmf)


def _jitter_buffer(samples: list[tuple[float, dict]], window: tuple[float, float] | None, errors: int,
                   margin: int) -> dict:
    """Jitter-buffer growth of each leg between engine readings inside the window (RTP flowing both
    ways): each `empty` there is an underrun. margin: readings skipped at each leg's start and end."""
    inside = [(t, r) for t, r in samples if window and window[0] <= t <= window[1]]
    out = {"readings": len(samples), "readings_in_window": len(inside), "reading_errors": errors,
           "margin_readings": margin, **streamstats.growth(inside, margin)}
    if not out["streams"]:
        out["note"] = "no leg with enough readings in the window (too short, or calls failed)"
    out["frames"] = round(out["stream_seconds"] / 0.02)  # 20 ms frames the bridge asked of those streams
    return out


def _dist(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {"n": len(values), "p50": round(media.pct(values, 50), 2), "p99": round(media.pct(values, 99), 2),
            "max": round(max(values), 2)}


def _recordings(recs: list[dict]) -> dict:
    return {
        "analysed": len(recs),
        "seconds": round(sum(r["seconds"] for r in recs), 1),
        "dropouts_20ms": sum(r["dropouts"] for r in recs),
        "calls_with_dropouts": sum(1 for r in recs if r["dropouts"]),
        "caller_leg_gaps": sum(r["caller_gaps"] for r in recs),
        "caller_leg_gap_ms": round(sum(r["caller_gap_ms"] for r in recs), 1),
        "operator_leg_gaps": sum(r["operator_gaps"] for r in recs),
        "operator_leg_gap_ms": round(sum(r["operator_gap_ms"] for r in recs), 1),
        "calls_missing_a_leg": sum(1 for r in recs if r["caller_tone_s"] < 1 or r["operator_tone_s"] < 1),
    }


# --- the benchmark ---------------------------------------------------------------------------------

def bench(args) -> dict:
    wanted = sorted({int(x) for x in args.levels.split(",") if x.strip()})
    if not wanted or wanted[0] < 1:
        raise SystemExit("--levels: positive numbers, e.g. 1,10,30")
    rig = Rig(args, operators=max(wanted))
    report = _header(rig, "bench")
    ok = False
    try:
        per_call = max(1, int(rig.cap.get("max_calls", 4)) // 2)
        levels = sorted({min(n, per_call) for n in wanted})
        if levels != wanted:
            report["notes"].append(
                f"{rig.cap.get('name')} allows {rig.cap.get('max_calls')} SIP calls per engine; each benchmark "
                f"call takes two (caller + SIP operator), so at most {per_call} at once: levels "
                f"{','.join(map(str, wanted))} ran as {','.join(map(str, levels))}")
        report["idle"] = idle = rig.idle(args.idle_seconds)
        for n in levels:
            print(f"level {n}: {n} calls of {args.call_seconds:g} s ...", file=sys.stderr, flush=True)
            level = rig.calls(f"level-{n}", n, n, min(args.rate, max(n, 1)), idle_rate=idle["cpu_rate"])
            report["levels"].append(level)
            if level["attempted"] and level["failed"] / level["attempted"] > args.max_failed:
                report["notes"].append(
                    f"stopped after level {n}: {level['failed']} of {level['attempted']} calls failed "
                    f"(more than {100 * args.max_failed:g} %)")
                break
            time.sleep(args.pause_seconds)
        ok = True
    finally:
        report["engine"] = rig.close()
        _cleanup(rig, args, ok)
    return report


def soak(args) -> dict:
    rig = Rig(args, operators=args.concurrency)
    report = _header(rig, "soak")
    ok = False
    try:
        per_call = max(1, int(rig.cap.get("max_calls", 4)) // 2)
        n = min(args.concurrency, per_call)
        if n != args.concurrency:
            report["notes"].append(f"{rig.cap.get('name')} allows {rig.cap.get('max_calls')} SIP calls: "
                                   f"concurrency {args.concurrency} lowered to {n}")
        report["idle"] = idle = rig.idle(args.idle_seconds)
        seconds = args.minutes * 60
        print(f"soak: {n} calls at a time for {args.minutes:g} min ...", file=sys.stderr, flush=True)
        level = rig.calls("soak", n, None, min(args.rate, n), duration_s=seconds, idle_rate=idle["cpu_rate"])
        samples = level["_samples"]
        warm = samples[0][0] + min(max(60.0, 2 * (args.call_seconds + rig.ivr_s)), seconds / 2) if samples else 0
        steady = [(t, kb) for t, kb in samples if t >= warm]
        growth = None
        if len(steady) >= 2:
            growth = {
                "rss_after_warmup_mb": round(steady[0][1] / 1024, 1),
                "rss_end_mb": level["memory"]["rss_end_mb"],
                "growth_mb": round(level["memory"]["rss_end_mb"] - steady[0][1] / 1024, 1),
                "slope_mb_per_hour": (round(_slope(steady) * 3600 / 1024, 2)
                                      if steady[-1][0] - steady[0][0] >= 120 else None),  # too short to say
                "from_s": round(warm - samples[0][0], 0),
            }
        level["rss_growth"] = growth
        load_end = level.pop("_load_end")
        rate = rig.sampler.cpu_rate(warm, load_end) if samples else None
        if rate is not None:  # the soak has no plateau with every call connected: the steady load instead
            level["cpu"]["plateau"] = {
                "calls": n, "seconds": round(load_end - warm, 1), "cpu_pct_of_core": round(100 * rate, 2),
                "net_cpu_s_per_call_minute": round((rate - idle["cpu_rate"]) * 60 / n, 4),
                "what": f"steady load of {n} calls at a time (each also passing the IVR and queue), after warm-up"}
        report["levels"].append(level)
        ok = True
    finally:
        report["engine"] = rig.close()
        _cleanup(rig, args, ok)
    return report


def idle_only(args) -> dict:
    """Only the idle engine, for longer than the benchmark's idle phase: its CPU is small, so a
    minute of CPU-seconds from /proc says more than a rate sampled under other load."""
    rig = Rig(args, operators=1)
    report = _header(rig, "idle")
    ok = False
    try:
        print(f"idle: measuring the idle engine for {args.idle_seconds:g} s ...", file=sys.stderr, flush=True)
        report["idle"] = rig.idle(args.idle_seconds)
        ok = True
    finally:
        report["engine"] = rig.close()
        _cleanup(rig, args, ok)
    return report


def _slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    den = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (v - my) for t, v in points) / den if den else 0.0


def _header(rig: Rig, kind: str) -> dict:
    cap = rig.cap
    return {
        "schema": 1,
        "kind": kind,
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": procstat.machine(),
        "pjsua2": {"build": cap.get("name"), "version": cap.get("version"), "max_calls": cap.get("max_calls"),
                   "note": cap.get("note"), "engine_python": rig.args.python},
        "settings": {"call_seconds": rig.args.call_seconds, "ivr_seconds": rig.ivr_s, "rate_cps": rig.args.rate,
                     "idle_seconds": rig.args.idle_seconds, "codec": "PCMU 20 ms", "bridge_hz": 8000,
                     "queue": "round_robin, wrap-up 0, recording on", "work_dir": str(rig.work)},
        "wire": rig.wire,
        "notes": [],
        "levels": [],
        "not_measured": NOT_MEASURED,
        "method": METHOD,
    }


METHOD = {
    "sip": "SIPp 3.6 on 127.0.0.1 for the SIP of both sides (bench/sipp/*.xml); RTP by bench.media over "
           "plain UDP sockets named in SIPp's SDP (SIPp's pcap player would add a raw socket per call, "
           "and the kernel copies every loopback UDP packet to each raw socket, charging the engine "
           "system time for every packet it sends)",
    "engine_cpu": "utime+stime of the engine process (all threads) from /proc/<pid>/stat, from the first "
                  "INVITE to the engine being idle again; net = minus the idle loop's rate (measured "
                  "first) times that time; per call-minute = net / sum of call durations in the "
                  "engine's call records",
    "loop_thread": "utime+stime of the engine's main thread (the loop: all pjsua2 calls, the engine "
                   "core) from /proc/<pid>/task/<pid>/stat over the same time, divided by the calls "
                   "attempted: the work that every INVITE and digit waits behind, and robust to the "
                   "machine's load",
    "plateau": "CPU rate sampled every 0.25 s while every call of the level was connected (last connect "
               "+ 0.5 s to first BYE - 0.5 s), as % of one core; comparable to the reference figures. "
               "Soak: the steady load after warm-up instead",
    "peak_rss": "VmHWM of the engine process (peak since start: a level's value includes earlier levels)",
    "invite_to_200": "SIPp caller's log times: just before sending INVITE to receiving the 200",
    "wire": "tcpdump on lo, the engine's SIP port only (bench/wire.py), kernel timestamps: invite_to_200 "
            "from the INVITE reaching the engine's socket to its 200 leaving it; dtmf_to_operator_invite "
            "to the operator INVITE leaving the engine. Without SIPp's own delays; needs tcpdump and the "
            "right to capture (root), else 'wire' says why not",
    "dtmf_to_operator_invite": "SIPp operator's log time of receiving the engine's INVITE minus bench.media's "
                               "time of sending the digit's first RFC 4733 packet (the caller sends a tone "
                               "from the answer on, the digit after the IVR time); one host clock",
    "rtp": "engine_tx: the engine's RTP towards callers/operators as bench.media receives it (sequence gaps, "
           "RFC 3550 jitter from kernel timestamps, longest gap); engine_rx: the engine's own RTCP report "
           "blocks about the streams it receives from bench.media (cumulative lost, jitter: this jitter "
           "includes bench.media's own sending jitter)",
    "jitter_buffer": "the engine's `stream_stats` control command (pjsua2 Call.getStreamStat: jbuf.empty, "
                     "lost, discard per SIP leg) read every --stream-stats-every seconds during the level; "
                     "the growth between the first and last reading inside the plateau over the legs in "
                     "both: empty = GETs by the bridge with no frame (underruns), lost = missing frames "
                     "concealed, discard = frames dropped to shrink the buffer",
    "recordings": "dropouts: firmware.sim.analysis.dropouts (20 ms frames of digital silence); leg gaps: "
                  "10 ms frames without the caller's 1 kHz / the operator's 1.7 kHz tone",
}


def _cleanup(rig: Rig, args, ok: bool) -> None:
    """The temporary work folder goes, unless asked to keep it or the run failed (then it says where)."""
    if not ok:
        print(f"the run did not finish; logs and recordings are in {rig.work}", file=sys.stderr)
    elif not args.keep and not args.work_dir:
        shutil.rmtree(rig.work, ignore_errors=True)


# --- output ----------------------------------------------------------------------------------------

def table(report: dict) -> str:
    m, p = report["machine"], report["pjsua2"]
    lines = [
        f"Switchboard {report['kind']}, {report['started_at']}",
        f"machine: {m['cpu_model']}, {m['cpus']} CPUs ({m['cpus_usable']} usable), {m['memory_mb']} MB, "
        f"kernel {m['kernel']}, Debian {m['debian']}, load at start {m['loadavg_at_start']}",
        f"pjsua2: {p['build']} {p['version']}, call cap {p['max_calls']} SIP calls per engine "
        f"(= {max(1, int(p['max_calls'] or 4) // 2)} benchmark calls); engine Python {p['engine_python']}",
        f"calls: {report['settings']['call_seconds']:g} s each (IVR {report['settings']['ivr_seconds']:g} s, "
        f"digit 1 by RFC 4733), PCMU, recorded; {m['sipp']}",
    ]
    idle = report.get("idle")
    if idle:
        lines.append(f"idle loop: {idle['cpu_pct_of_core']:.2f} % of a core over {idle['seconds']:g} s "
                     f"({idle.get('cpu_s', '-')} CPU-s), RSS {idle['rss_mb']} MB, {idle['threads']} threads, "
                     f"load {idle.get('loadavg_1min', '-')}")
        busy = [t for t in idle.get("per_thread", []) if t["cpu_pct_of_core"] > 0]
        if busy:
            lines.append("idle by thread: " + ", ".join(
                f"{'loop' if t['main'] else t['tid']} {t['cpu_pct_of_core']:g} %" for t in busy[:6]))
    levels = report["levels"]
    if levels:
        rows = [("concurrent calls", lambda lv: lv["concurrency"])]
        rows += _rows_spec(report["kind"])
        head = [name for name, _ in rows]
        cols = [[_fmt(get(lv)) for lv in levels] for _, get in rows]
        width = max(len(h) for h in head)
        cw = max([len(c) for col in cols for c in col] + [8])
        lines.append("")
        for h, col in zip(head, cols):
            lines.append(f"{h:<{width}}  " + "  ".join(f"{c:>{cw}}" for c in col))
    for note in report["notes"]:
        lines.append(f"note: {note}")
    captured = report.get("wire") or {}
    if not captured.get("captured"):
        lines.append(f"SIP on the wire: not measured ({captured.get('why_not')})")
    elif captured.get("dropped_by_kernel"):
        lines.append(f"SIP on the wire: the kernel dropped {captured['dropped_by_kernel']} packets of the capture")
    eng = report.get("engine") or {}
    if eng.get("engine_log_problems"):
        lines.append("engine log problems: " + " | ".join(eng["engine_log_problems"][:3]))
    if levels and any((lv.get("jitter_buffer") or {}).get("streams") for lv in levels):
        lines.append("jitter buffer: growth of the engine's per-stream counters (pjsua2 getStreamStat) "
                     "while every call was connected; see JSON 'jitter_buffer'")
    return "\n".join(lines)


def _rows_spec(kind: str):
    def g(*path):
        def get(lv):
            v = lv
            for k in path:
                v = v.get(k) if isinstance(v, dict) else None
            return v
        return get
    rows = [
        ("attempted / completed / failed", lambda lv: f"{lv['attempted']}/{lv['completed']}/{lv['failed']}"),
        ("CPU s per call-minute (net)", g("cpu", "net_cpu_s_per_call_minute")),
        ("plateau CPU % of a core", g("cpu", "plateau", "cpu_pct_of_core")),
        ("plateau CPU s/call-min (net)", g("cpu", "plateau", "net_cpu_s_per_call_minute")),
        ("loop thread CPU ms per call", g("cpu", "loop_thread_ms_per_call")),
        ("peak RSS MB (VmHWM)", g("memory", "peak_rss_mb")),
        ("INVITE->200 ms p50/p99", lambda lv: _pair(lv["invite_to_200_ms"])),
        ("DTMF->operator INVITE ms p50/p99", lambda lv: _pair(lv["dtmf_to_operator_invite_ms"])),
        ("  on the wire: INVITE->200", lambda lv: _pair((lv.get("wire") or {}).get("invite_to_200_ms"))),
        ("  on the wire: DTMF->operator", lambda lv: _pair((lv.get("wire") or {}).get("dtmf_to_operator_invite_ms"))),
        ("RTP engine rx loss % (RTCP)", lambda lv: _dirs(lv, "engine_rx", "loss_pct")),
        ("RTP engine rx jitter ms p99", lambda lv: _dirs(lv, "engine_rx", "jitter_ms_p99")),
        ("RTP engine tx loss % (received)", lambda lv: _dirs(lv, "engine_tx", "loss_pct")),
        ("RTP engine tx jitter ms p99", lambda lv: _dirs(lv, "engine_tx", "jitter_ms_p99")),
        ("RTP engine tx max gap ms", lambda lv: _dirs(lv, "engine_tx", "max_gap_ms")),
        ("jitter-buffer underruns/lost/discard", lambda lv: _jbuf_row(lv.get("jitter_buffer"))),
        ("recordings analysed", g("recordings", "analysed")),
        ("dropouts (20 ms silence)", g("recordings", "dropouts_20ms")),
        ("leg gaps caller/operator", lambda lv: "{caller_leg_gaps}/{operator_leg_gaps}".format(**lv["recordings"])),
        ("UDP rx errors (host)", lambda lv: lv.get("udp_host", {}).get("InErrors")),
        ("host CPUs busy % (everything)", g("machine_load", "host_busy_pct_of_all_cpus")),
        ("host steal % / CPU pressure %", lambda lv: "{}/{}".format(
            _fmt(lv["machine_load"]["host_steal_pct_of_all_cpus"]),
            _fmt(lv["machine_load"]["cpu_pressure_pct_of_time"])) if lv.get("machine_load") else "-"),
        ("our late RTP sends / engine gaps>60ms", lambda lv: "{}/{}".format(
            sum(v["bench"]["late_sends_over_10ms"] for v in lv["rtp"].values()),
            sum(v["engine_tx"]["gaps_over_60ms"] for v in lv["rtp"].values()))),
        ("CPU s engine/bench RTP/SIPp", lambda lv: "{engine_cpu_s:g}/{bench_media_cpu_s:g}/{sipp_cpu_s:g}".format(
            **lv["machine_load"]) if lv.get("machine_load") else "-"),
    ]
    if kind == "soak":
        rows += [
            ("RSS after warm-up MB", g("rss_growth", "rss_after_warmup_mb")),
            ("RSS end MB", g("rss_growth", "rss_end_mb")),
            ("RSS growth MB", g("rss_growth", "growth_mb")),
            ("RSS slope MB/hour", g("rss_growth", "slope_mb_per_hour")),
        ]
    return rows


def _jbuf_row(jb: dict | None) -> str:
    if not jb or not jb.get("streams"):
        return "-"
    return f"{jb['empty']}/{jb['lost']}/{jb['discard']}"


def _pair(d: dict) -> str:
    return "-" if not d or d.get("n", 0) == 0 else f"{d['p50']:.1f}/{d['p99']:.1f}"


def _dirs(lv: dict, side: str, key: str) -> str:
    """callers/operators value of one RTP figure."""
    figures = lv.get("rtp") or {}
    vals = [(figures.get(name) or {}).get(side, {}).get(key) for name in ("callers", "operators")]
    return "/".join("-" if v is None else f"{v:g}" for v in vals)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1 else f"{v:.1f}"
    return str(v)


def save(report: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"{report['kind']}-{stamp}.json"
    for level in report["levels"]:
        level.pop("_samples", None)
    report["idle"] and report["idle"].pop("cpu_rate", None)
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    return path


# --- command line ----------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("mode", nargs="?", choices=["bench", "soak", "idle"], default="bench",
                   help="bench (default), soak, or idle (only the idle engine, --idle-seconds long)")
    p.add_argument("--levels", default=os.environ.get("LEVELS") or LEVELS,
                   help=f"concurrent calls per level, comma separated (default {LEVELS}); "
                        "capped to the build's call cap / 2")
    p.add_argument("--call-seconds", type=float, default=None,
                   help="length of each call from ACK to BYE, IVR and queue included (default 20; soak 30)")
    p.add_argument("--ivr-seconds", type=float, default=1.2, help="when the caller presses 1 after the answer")
    p.add_argument("--idle-seconds", type=float, default=10, help="idle-loop CPU measurement before the load")
    p.add_argument("--settle-seconds", type=float, default=3, help="wait after start-up before measuring idle")
    p.add_argument("--pause-seconds", type=float, default=2, help="pause between levels")
    p.add_argument("--rate", type=float, default=10, help="new calls per second while a level ramps up")
    p.add_argument("--stream-stats-every", type=float, default=1.0,
                   help="seconds between readings of the engine's jitter-buffer figures")
    p.add_argument("--max-failed", type=float, default=0.05, help="stop raising the level above this failed share")
    p.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES") or 10),
                   help="soak: how long the steady load runs (default 10, or $SOAK_MINUTES)")
    p.add_argument("--concurrency", type=int, default=10, help="soak: calls at once (capped to the build's cap / 2)")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter that runs the engine (its pjsua2 is the one measured)")
    p.add_argument("--out", default=str(RESULTS), help="folder for the JSON result")
    p.add_argument("--work-dir", default=None, help="keep everything (logs, recordings) here")
    p.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    p.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.call_seconds is None:
        args.call_seconds = 30.0 if args.mode == "soak" else 20.0
    if args.call_seconds < args.ivr_seconds + 2:
        raise SystemExit("--call-seconds must leave at least 2 s after --ivr-seconds")
    if shutil.which("sipp") is None:
        raise SystemExit("sipp is not installed (Debian package sip-tester; `make deps`)")
    if os.sep in args.python:
        args.python = os.path.abspath(args.python)  # not resolved: a venv's python is a symlink
    report = {"bench": bench, "soak": soak, "idle": idle_only}[args.mode](args)
    path = save(report, Path(args.out))
    print(json.dumps(report, indent=2) if args.json else table(report))
    print(f"JSON: {path}")
    failed = sum(lv["failed"] for lv in report["levels"])
    if args.mode == "idle":
        return 1 if report["engine"].get("engine_log_problems") else 0
    return 1 if report["engine"].get("engine_log_problems") or not report["levels"] else (0 if not failed else 3)
