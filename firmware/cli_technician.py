"""`switchboard line-test`, `headset-test` and the live part of `panel-test`: the technician's checks
of the hardware. The engine runs them; these print what came back."""

from __future__ import annotations

import json
import select
import sys
import time

from firmware.control.client import request


def cmd_line_test(args) -> int:
    """Test a line. A modem line (idle only): the modem's identity, then off hook to check dial tone,
    both as the modem reports it and as heard in the audio, then on hook; with the last raw caller
    ID. A SIP line: an OPTIONS ping to its gateway or trunk (answer and round trip)."""
    if not args.json:
        print(f"testing line {args.name}...", flush=True)
    report = request(args.data_dir, "line_test", name=args.name, timeout=60)
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        print()
        return 0 if report["ok"] else 1
    print(f"{report['name']} ({report['kind']}): {'OK' if report['ok'] else 'FAILED'}")
    if report["kind"] == "modem":
        identity = report.get("identity") or {}
        print(f"  modem: {identity.get('ATI0', '?')} / {identity.get('ATI3', '?')} (model {report.get('model')})")
        reported = (f"yes, {report['reported_after_s']} s after going off hook" if report.get("dial_tone_reported")
                    else "no")
        print(f"  dial tone reported by the modem (DLE d): {reported}")
        print(f"  heard off hook ({report.get('waited_s', 0)} s): {report.get('heard_text') or '(nothing)'}")
        print(f"  last caller ID report: {report.get('last_caller_id_raw') or '(none yet)'}")
    elif report.get("ping"):
        ping = report["ping"]
        print(f"  OPTIONS to {ping['host']}:{ping['port']}: sent {ping['sent']} time(s), "
              + (f"answered {ping['code']} {ping['reason']} in {ping['rtt_ms']} ms" if ping.get("reachable")
                 else "no usable answer"))
    print(f"  {report['verdict']}")
    return 0 if report["ok"] else 1


def cmd_headset_test(args) -> int:
    """Test a station's headset (the station must be free): a 1 kHz tone plays in the headset for
    --seconds while its microphone is recorded; shows the input level (RMS and peak, dBFS) twice a
    second while it runs, then in all with a verdict. Speak into the microphone during the test."""
    if not args.json:
        print(f"{args.operator}: test tone in the headset for {args.seconds:g} s; speak into the microphone...",
              flush=True)
    report = _run_showing_levels(args) if not args.json else request(
        args.data_dir, "headset_test", operator=args.operator, seconds=args.seconds, timeout=args.seconds + 30)
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        print()
        return 0 if report["ok"] else 1
    measured = report.get("input") or {}
    if measured and not measured["seconds"]:
        print("  no sound at all came from the microphone")
    elif measured:
        print(f"  in all ({measured['seconds']} s): RMS {measured['rms_dbfs']:.1f} dBFS, peak {measured['peak_dbfs']:.1f} dBFS")
    print(f"  {report['verdict']}")
    return 0 if report["ok"] else 1


def _run_showing_levels(args) -> dict:
    """The test runs in the engine; meanwhile the microphone's level is shown twice a second."""
    import threading
    outcome: dict = {}

    def run():
        try:
            outcome["report"] = request(args.data_dir, "headset_test", operator=args.operator,
                                        seconds=args.seconds, timeout=args.seconds + 30)
        except Exception as exc:  # shown on the main thread, as any command's error
            outcome["error"] = exc

    started, began = time.time() - 1, time.monotonic()  # -1: some filesystems stamp whole seconds
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
        if not worker.is_alive():
            break
        level = request(args.data_dir, "headset_level", operator=args.operator, since=started)["level"]
        if level is not None:
            shown = time.monotonic() - began
            bar = "#" * max(0, int((level["rms_dbfs"] + 60) / 3))
            print(f"  {shown:>5.1f} s  RMS {level['rms_dbfs']:>6.1f} dBFS  peak {level['peak_dbfs']:>6.1f} dBFS  {bar}",
                  flush=True)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["report"]


def cmd_panel_test(args) -> int:
    """Blink every LED of the operator panels for --seconds and show each button press as it happens
    (presses do nothing else meanwhile): a wiring check for technicians. Enter or Ctrl-C stops showing."""
    print(request(args.data_dir, "panel_test", seconds=args.seconds), flush=True)
    seen = 0
    try:
        while True:
            state = request(args.data_dir, "panel_presses", since=seen)
            for press in state["presses"]:
                print(f"  {press['at_s']:>6.2f} s  {press['station']:<10} {press['button']:<9}"
                      f"{' (long press)' if press['long'] else ''}", flush=True)
            seen += len(state["presses"])
            if not state["running"]:
                break
            if _enter_pressed(0.2):
                break
    except KeyboardInterrupt:
        print()
    print(f"panel test over: {seen} button press{'es' if seen != 1 else ''} seen")
    return 0


def _enter_pressed(wait_s: float) -> bool:
    if not sys.stdin.isatty():
        time.sleep(wait_s)
        return False
    if select.select([sys.stdin], [], [], wait_s)[0]:
        sys.stdin.readline()
        return True
    return False


def add_commands(command) -> None:
    p = command("line-test", cmd_line_test)
    p.add_argument("name", help="the line, as in switchboard status")
    p.add_argument("--json", action="store_true")
    p = command("headset-test", cmd_headset_test)
    p.add_argument("operator", help="a headset station")
    p.add_argument("--seconds", type=float, default=5, help="how long the tone plays (1-30, default 5)")
    p.add_argument("--json", action="store_true")
