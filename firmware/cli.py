"""The `switchboard` command: runs the engine and talks to it. Every command's help is its docstring."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from firmware import cli_box, cli_callers, cli_technician, settings as settings_mod
from firmware.control.client import ControlError, EngineNotRunning, request
from firmware.store import db as dbmod, queries

DEFAULT_DATA_DIR = "data"


def cmd_engine(args) -> int:
    """Run the engine daemon with the box's real hardware (what systemd starts); --sim: simulated
    hardware (what `switchboard run --sim` starts and restarts)."""
    from firmware.app import Options, run
    return run(Options(Path(args.data_dir), sim=args.sim, sip_port=args.sip_port))


def cmd_run(args) -> int:
    """Run the whole box in the foreground (engine and web admin); --sim uses simulated hardware.
    The engine is started again when it exits for a restart or fails, as systemd does; Ctrl-C stops
    everything cleanly."""
    from firmware.supervisor import Supervisor, engine_command
    web = None
    if args.web_port:
        web = [sys.executable, "-m", "firmware.cli", "--data-dir", args.data_dir, "web", "--port", str(args.web_port),
               "--under-run"]
    verbose = getattr(args, "verbose", False)
    return Supervisor(lambda: engine_command(Path(args.data_dir), args.sim, args.sip_port, verbose), web).run()


def cmd_status(args) -> int:
    """Show lines, operators, calls in progress, callers waiting and the SIP call capacity."""
    status = request(args.data_dir, "status")
    if args.json:
        return _print_json(status)
    cap, hours = status["capacity"], status["hours"]
    print(f"engine pid {status['pid']} since {status['started_at']}, SIP {status['sip']['address']}:"
          f"{status['sip']['port']}{' (simulated hardware)' if status['simulated'] else ''}")
    print(f"pjsua2 {cap['version']}, {cap['name']}: {cap['in_use']} of {cap['max_calls']} SIP calls in use")
    if cap.get("note"):
        print(f"  note: {cap['note']}")
    print(f"hours: {'open' if hours['open'] else 'closed'} (override: {hours['override']})")
    for alert in status.get("alerts", []):
        print(f"ALERT {alert['kind']} since {alert['since']}: {alert['message']}")
    print("lines:")
    for line in status["lines"]:
        print(f"  {line['name']:<12} {line['kind']:<12} {line['state']:<6} from {', '.join(line['allow'])}")
    print("operators:")
    for op in status["operators"]:
        reason = f" ({op['reason']})" if op["reason"] else ""
        print(f"  {op['name']:<12} {op['kind']:<8} {op['state']:<10} {op['for_s']:>7.0f} s{reason}"
              f"  calls today {op['calls_today']}"
              f"{'' if op.get('available', True) else '  HEADSET UNPLUGGED: ' + str(op.get('unavailable_because'))}")
    print(f"calls in progress: {len(status['calls'])}")
    for call in status["calls"]:
        print(f"  {call['id']}  {call['caller_id'] or '(no caller id)':<16} {call['state']:<10}"
              f" {call['queue'] or '':<12} {call['operator'] or '':<8} {call['for_s']:.0f} s")
    print(f"callers waiting: {len(status['waiting'])}")
    for w in status["waiting"]:
        print(f"  {w['position']}. {w['caller_id'] or '(no caller id)':<16} {w['queue']:<12} {w['wait_s']:.0f} s")
    print(f"callbacks pending: {len(status['callbacks'])}")
    for c in status["callbacks"]:
        print(f"  {c['position']}. {c['number']:<16} {c['queue']:<12} attempts {c['attempts']}"
              f"{' (calling now)' if c['in_progress'] else ''}")
    print(f"voicemail: {status['voicemail']['unheard']} unheard messages")
    if "edge" in status:
        _print_edge(status["edge"])
    web = Path(args.data_dir) / "web"
    if (web / "setup-code").exists() and not (web / "admin.json").exists():
        url = (web / "url").read_text().strip() if (web / "url").exists() else "http://127.0.0.1:8080/"
        print(f"web admin setup code: {(web / 'setup-code').read_text().strip()} (open {url.rstrip('/')}/setup)")
    return 0


def _print_edge(edge: dict) -> None:
    if not edge["running"]:
        print(f"SIP edge (port {edge['port']}): NOT ANSWERING: {edge.get('error', '')}")
        return
    c = edge["counts"]
    print(f"SIP edge (Kamailio) on port {edge['port']}: {len(edge['banned'])} addresses banned now, "
          f"{c['bans']} bans in all, {c['dropped_banned']} requests dropped while banned")
    print(f"  refused: {c['scanners']} scanners, {c['floods']} floods, {c['malformed']} malformed, "
          f"{c['auth_failures']} wrong credentials or refused calls")
    for ban in edge["banned"]:
        print(f"  banned {ban['address']:<16} {ban['reason']}")
    print(f"  registered phones: {len(edge['registrations'])}")
    for reg in edge["registrations"]:
        print(f"    {reg['user']:<12} {reg['contact']}  expires in {reg['expires']} s  {reg['user_agent']}")


def cmd_edge_password(args) -> int:
    """Set the SIP password of an operator's phone that registers with the edge (stored as digest HA1;
    asked twice on a terminal, else read from the first line of standard input)."""
    import getpass
    import tomli_w
    from firmware import config_paths
    from firmware.edge.credentials import ha1
    data = _stored_config(args.data_dir)
    settings = settings_mod.from_dict(data)
    op = settings.operator(args.name)
    if op.kind != "sip":
        raise ValueError(f"operator {args.name} is a {op.kind}, not a SIP phone")
    username = args.username or op.username
    if not username:
        raise ValueError(f"operator {args.name} has no username yet: give --username USER")
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {username}: ")
        if getpass.getpass("again: ") != password:
            raise ValueError("the two passwords differ; nothing changed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise ValueError("a SIP password needs 8 characters or more; nothing changed")
    realm = settings.edge.realm if settings.edge else settings_mod.Edge().realm
    config_paths.set_value(data, f"operators.{args.name}.username", f'"{username}"')
    config_paths.set_value(data, f"operators.{args.name}.ha1", f'"{ha1(username, realm, password)}"')
    return _save_config(args.data_dir, tomli_w.dumps(data), f"edge password {args.name}")


def cmd_edge_unban(args) -> int:
    """Lift the edge's ban of an address (and forget its failed attempts)."""
    print(request(args.data_dir, "edge_unban", address=args.address))
    return 0


def cmd_edge_render(args) -> int:
    """Write the edge's kamailio.cfg and credential tables from the stored configuration (what
    switchboard-edge.service runs before Kamailio starts); --check runs Kamailio's own check."""
    from firmware.edge import process
    from firmware.edge.render import EdgePlan
    text = queries.current_config(dbmod.open_read(args.data_dir))
    settings = settings_mod.from_toml(text) if text else settings_mod.Settings()
    if settings.edge is None:
        raise ValueError("the configuration has no [edge]: the engine faces the network itself")
    if not (settings.edge.internal_port and settings.edge.engine_port):
        raise ValueError("on the box edge.internal_port and edge.engine_port must be fixed ports, not 0")
    plan = EdgePlan(settings, settings.sip.port, settings.edge.internal_port, settings.edge.engine_port,
                    process.run_dir(Path(args.data_dir)))
    path = process.write_files(plan)
    if args.check:
        process.check_config(path)
    print(f"wrote {path}")
    return 0


def cmd_calls(args) -> int:
    """List call records, newest first; --caller, --operator, --outcome, --since, --until narrow them,
    --csv exports them."""
    rows = cli_box.calls_for(args, dbmod.open_read(args.data_dir))
    if args.csv:
        return cli_box.print_csv(rows)
    if args.json:
        return _print_json(rows)
    print(f"{'started (UTC)':<20} {'caller':<16} {'line':<8} {'queue':<12} {'operator':<8} "
          f"{'wait':>6} {'talk':>6}  disposition")
    for r in rows:
        wait = f"{r['wait_s']:.0f}s" if r["wait_s"] is not None else ""
        talk = f"{r['talk_s']:.0f}s" if r["talk_s"] else ""
        print(f"{r['started_at'][:19].replace('T', ' '):<20} {r['caller_id'] or '-':<16} {r['line'] or '-':<8} "
              f"{r['queue'] or '':<12} {r['operator'] or '':<8} {wait:>6} {talk:>6}  {r['disposition'] or 'in progress'}"
              f"{'  ' + r['recording'] if r['recording'] and args.recordings else ''}")
    return 0


def cmd_operator(args) -> int:
    """Set an operator ready, paused (with --reason) or logged out; or transfer their caller to
    another operator or back to the queue (`transfer TARGET|queue`)."""
    if args.action == "transfer":
        if not args.target:
            raise ControlError("transfer needs a target: an operator's name, or queue")
        print(request(args.data_dir, "transfer", name=args.name, target=args.target)["message"])
        return 0
    if args.target:
        raise ControlError(f"{args.action} takes no target (only transfer does)")
    result = request(args.data_dir, "operator", name=args.name, action=args.action, reason=args.reason or "")
    print(result["message"])
    return 0


def cmd_config_export(args) -> int:
    """Print the current configuration as TOML (or write it to FILE)."""
    text = queries.current_config(dbmod.open_read(args.data_dir))
    if text is None:
        print("no configuration stored yet", file=sys.stderr)
        return 1
    if args.file:
        Path(args.file).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_config_import(args) -> int:
    """Validate a TOML configuration, save it and apply it to the running engine (no call dropped)."""
    return _save_config(args.data_dir, Path(args.file).read_text(), f"import {args.file}")


def _save_config(data_dir: str, text: str, source: str) -> int:
    settings_mod.from_toml(text)  # refuse early, with every problem listed
    try:
        print(request(data_dir, "config_import", toml=text, source=source, timeout=120)["message"])
    except EngineNotRunning:
        from firmware import prompts
        from firmware.store.writer import Writer
        prompts.render_all(settings_mod.from_toml(text), Path(data_dir))
        writer = Writer(Path(data_dir))
        writer.save_config(text, source)
        writer.close()
        print("configuration saved; the engine is not running and will use it when it starts")
    return 0


def _stored_config(data_dir: str) -> dict:
    import tomllib
    text = queries.current_config(dbmod.open_read(data_dir))
    if text is None:
        raise FileNotFoundError("no configuration stored yet")
    return tomllib.loads(text)


def cmd_config_get(args) -> int:
    """Show one configuration value, e.g. queues.front-desk.ring_timeout_s (lists by item name)."""
    from firmware import config_paths
    import tomli_w
    value = config_paths.get(_stored_config(args.data_dir), args.key)
    print(tomli_w.dumps({"v": value})[4:].rstrip() if not isinstance(value, dict) else tomli_w.dumps(value).rstrip())
    return 0


def cmd_config_set(args) -> int:
    """Change one configuration value (validated, saved and applied like an import)."""
    from firmware import config_paths
    import tomli_w
    data = _stored_config(args.data_dir)
    config_paths.set_value(data, args.key, args.value)
    return _save_config(args.data_dir, tomli_w.dumps(data), f"set {args.key}")


def cmd_config_check(args) -> int:
    """Validate a TOML configuration file without saving it."""
    settings_mod.from_toml(Path(args.file).read_text())
    print(f"{args.file}: valid")
    return 0


def cmd_config_keys(args) -> int:
    """List every configuration key with its description."""
    for key, doc in settings_mod.field_docs().items():
        print(f"{key:<40} {doc}")
    return 0


def cmd_reload(args) -> int:
    """Apply the stored configuration again (after it changed); calls in progress are kept."""
    print(request(args.data_dir, "reload", timeout=120)["message"])
    return 0


def cmd_hours(args) -> int:
    """The manual day/night switch: day, night, or auto (follow the business hours)."""
    result = request(args.data_dir, "hours", mode=args.mode)
    print(f"{result['message']}; the office is now {'open' if result['open'] else 'closed'}")
    return 0


def cmd_line(args) -> int:
    """A line's state; for a modem line its identity, settings, last raw caller ID and recent line
    events (--json exports them all)."""
    info = request(args.data_dir, "line", name=args.name)
    if args.json:
        return _print_json(info)
    print(f"{info['name']} ({info['kind']}): {info['state']}")
    diag = info["diagnostics"]
    if diag:
        print(f"  device {diag['url']}, model {diag.get('model')}, identity {diag.get('identity')}")
        print(f"  last caller ID report: {diag.get('last_caller_id_raw') or '(none yet)'}")
        print(f"  reconnects {diag.get('reconnects')}, last error: {diag.get('last_error') or '(none)'}")
        _print_call_audio(diag)
        for entry in diag.get("recent", [])[-15:]:
            print(f"  {entry['at'][11:19]}  {entry['kind']:<16} {entry['detail']}")
    return 0


def _print_call_audio(diag: dict) -> None:
    """The audio of the current (or last) call: frame buffers both ways and the bridge's frame timing."""
    for key, what in (("rx", "line -> box"), ("tx", "box -> line")):
        b = diag.get(key) or {}
        print(f"  {what}: {b.get('frames_in', 0)} frames in, {b.get('frames_out', 0)} out, "
              f"underruns {b.get('underruns', 0)}, overruns {b.get('overruns', 0)}, trimmed {b.get('trimmed', 0)}, "
              f"buffered {b.get('level', 0)} (pre-fill {b.get('prefill', '?')})")
    clock = diag.get("bridge_frames") or {}
    if clock.get("p50_ms") is not None:
        print(f"  bridge frames: {clock['ticks']}, interval p50 {clock['p50_ms']} ms, p99 {clock['p99_ms']} ms,"
              f" max {clock['max_ms']} ms, jitter {clock['jitter_ms']} ms, late (>= 40 ms) {clock['late']}")


def cmd_watchdog_test(args) -> int:
    """Hold the engine loop for --seconds to check that systemd's watchdog restarts a hung engine."""
    print(request(args.data_dir, "watchdog_test", seconds=args.seconds))
    return 0


def cmd_log(args) -> int:
    """Show the engine's recent log entries (rejected calls, repairs, faults); --follow keeps showing
    new ones until Ctrl-C or Enter."""
    db = dbmod.open_read(args.data_dir)
    for row in reversed(queries.log_entries(db, args.limit)):
        print(f"{row['at'][:19]} {row['level']:<8} {row['source']:<10} {row['message']}")
    if args.follow:
        _follow_log(db)
    return 0


def _follow_log(db) -> None:
    import select
    last = max((r["id"] for r in queries.log_since(db, 0)), default=0)
    print("-- following the log: Enter or Ctrl-C to stop --", flush=True)
    try:
        while True:
            for row in queries.log_since(db, last):
                last = row["id"]
                print(f"{row['at'][:19]} {row['level']:<8} {row['source']:<10} {row['message']}", flush=True)
            if select.select([sys.stdin], [], [], 0.5)[0]:
                sys.stdin.readline()
                return
    except KeyboardInterrupt:
        print()


def cmd_console(args) -> int:
    """The technician's console: every command as an interactive shell, on a serial line with --tty."""
    from firmware import console
    return console.run(Path(args.data_dir), build_parser(), args.tty)


def cmd_disk(args) -> int:
    """Free space where the data lives, and what the recordings take."""
    import shutil
    usage = shutil.disk_usage(args.data_dir)
    files = list((Path(args.data_dir) / "recordings").glob("*"))
    size = sum(f.stat().st_size for f in files)
    print(f"data directory {args.data_dir}: {usage.free / 1e9:.1f} GB free of {usage.total / 1e9:.1f} GB "
          f"({100 * usage.used / usage.total:.0f}% used)")
    print(f"recordings: {len(files)} files, {size / 1e6:.1f} MB")
    return 0


def cmd_network(args) -> int:
    """The box's network interfaces and addresses."""
    import shutil
    import socket
    import subprocess
    print(f"host name: {socket.gethostname()}")
    if shutil.which("ip"):
        print(subprocess.run(["ip", "-brief", "address"], capture_output=True, text=True).stdout.rstrip())
    else:
        print("interfaces: " + ", ".join(name for _, name in socket.if_nameindex()))
    return 0


def cmd_web(args) -> int:
    """Serve the web admin (dashboard, calls, recordings, configuration) on http://HOST:PORT."""
    from web.serve import serve
    return serve(Path(args.data_dir), args.host, args.port, under_run=args.under_run)


def cmd_sim_call(args) -> int:
    """Call the box from a bundled test phone and print what it heard and what happened."""
    from firmware.sim import phone
    port = args.sip_port
    if port is None:
        try:
            port = request(args.data_dir, "status")["sip"]["port"]
        except EngineNotRunning:
            port = 5060
    argv = ["call", f"sip:{args.number}@{args.host}:{port}", "--tone", str(args.tone),
            "--max-seconds", str(args.max_seconds)]
    if args.digits:
        argv += ["--digits", args.digits, "--digit-delay", str(args.digit_delay)]
    if args.talk is not None:
        argv += ["--talk", str(args.talk)]
    if args.caller_id:
        argv += ["--caller-id", args.caller_id]
    if args.record:
        argv += ["--record", args.record]
    if args.json:
        argv.append("--json")
    return phone.main(argv)


def cmd_sim_line(args) -> int:
    """Be the caller on a simulated analog line: ring [NUMBER], dtmf DIGITS, voice HZ, hang up by busy
    tone (busy) or loop-current break (loopbreak), go quiet (silence: only line noise), unplug / replug
    the modem, heard FILE (save what the caller heard), dialtone north_america|europe|none (the exchange's
    tone off hook; none: a dead line)."""
    print(request(args.data_dir, "sim_line", line=args.line, action=args.action, value=args.value or ""))
    return 0


def cmd_sim_ring(args) -> int:
    """Place a call on a simulated analog (modem) line: the exchange rings with caller ID, the caller
    speaks the WAV given with --audio (looped) and presses --digits after the box answers."""
    options = {"caller_id": args.caller_id or "", "digits": args.digits or "", "digit_delay": args.digit_delay}
    if args.audio:
        from firmware.sim.exchange import read_caller_audio
        audio = str(Path(args.audio).resolve())  # the engine reads it: its working directory is not ours
        try:
            read_caller_audio(audio)  # a bad file is refused here, before anything rings
        except ValueError as exc:
            print(f"switchboard: {exc}", file=sys.stderr)
            return 1
        options["audio"] = audio
    print(request(args.data_dir, "sim_line", line=args.line, action="ring", options=options))
    return 0


def cmd_sim_press(args) -> int:
    """Press a button on a simulated station's panel (answer: answer or hang up; ready: ready or pause,
    --long to log out; transfer)."""
    print(request(args.data_dir, "press", station=args.station, button=args.button, long=args.long)["message"])
    return 0


def cmd_sim_headset(args) -> int:
    """Unplug or plug back a simulated station's USB headset (the station is unavailable meanwhile)."""
    print(request(args.data_dir, "sim_headset", station=args.station, action=args.action))
def cmd_update(args) -> int:
    """Install a release bundle (checksum verified), keep the previous release, switch, and go back by
    itself if the new engine does not report ready within --timeout seconds."""
    from firmware import update
    outcome = update.install_bundle(Path(args.bundle), Path(args.data_dir), ready_timeout_s=args.timeout,
                                    say=lambda m: print(m, flush=True))
    print(outcome.message)
    return 0 if outcome.ok else 1


def cmd_encode(args) -> int:
    """Encode finished recordings to Opus in WebM (what switchboard-encoder.service runs); each WAV is
    deleted only after its WebM decodes to the same length. --once: what is pending now, then exit."""
    from firmware import encoder
    failures = encoder.run_worker(Path(args.data_dir), once=args.once, interval_s=args.interval,
                                  say=lambda m: print(m, flush=True))
    return 1 if failures else 0


def cmd_init(args) -> int:
    """Prepare the data directory at boot: finish a cut-short factory reset, make this box's secrets and
    the web admin's setup code when missing, point the active release at the factory one if none."""
    from firmware import system
    from web.files import WebFiles  # the web admin's own files (the CLI is the composition root)
    for line in system.init_data_dir(Path(args.data_dir), Path(args.factory) / "venv" if args.factory else None):
        print(line)
    files = WebFiles(Path(args.data_dir) / "web")
    files.secret_key()  # this box's own session key, made once
    if not files.has_password():
        print(f"web admin setup code: {files.setup_code()}")
    return 0


def _confirmed(word: str) -> bool:
    """The technician types the word itself: a stray Enter never reboots or wipes a box."""
    try:
        answer = input(f"type {word} to confirm: ")
    except EOFError:
        answer = ""
    if answer.strip() != word:
        print("not confirmed; nothing done")
        return False
    return True


def cmd_reboot(args) -> int:
    """Restart the box (asks you to type reboot)."""
    from firmware import system
    return _power_action("reboot", system.reboot, "rebooting")


def cmd_shutdown(args) -> int:
    """Power the box off, e.g. before moving it (asks you to type shutdown)."""
    from firmware import system
    return _power_action("shutdown", system.shutdown, "powering off")


def _power_action(word: str, action, done: str) -> int:
    from firmware import system
    if not _confirmed(word):
        return 1
    try:
        action()
    except system.CommandFailed as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 1
    print(done)
    return 0


def cmd_factory_reset(args) -> int:
    """Wipe every call record, recording, setting, password and update, then reboot as a new box
    (asks you to type reset)."""
    from firmware import system
    print(f"This erases everything in {args.data_dir}: calls, recordings, configuration, passwords, network "
          "settings and installed updates.")
    if not _confirmed("reset"):
        return 1
    try:
        system.factory_reset(Path(args.data_dir))
    except system.CommandFailed as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_network_settings(args) -> int:
    """Show or set the network settings: dhcp, or static ADDRESS/PREFIX [--gateway G] [--dns D ...];
    applied at once and kept across reboots."""
    from firmware import netconfig, system
    if args.action == "show":
        print(netconfig.stored(Path(args.data_dir), args.interface).describe())
        return 0
    wanted = netconfig.NetSettings(args.interface, args.action, args.address or "", args.gateway or "",
                                   tuple(args.dns or ()))
    try:
        settings = netconfig.validate(wanted)
    except netconfig.NetworkSettingsError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    netconfig.save(Path(args.data_dir), settings)
    print(f"saved: {settings.describe()}")
    result = system.run_command(["systemctl", "start", netconfig.APPLY_UNIT])
    print("applied" if result.returncode == 0 else
          f"saved, but not applied now ({(result.stderr or '').strip() or result.returncode}); it applies at the next boot")
    return 0


def cmd_web_password(args) -> int:
    """The web admin's password: reset (forget it; the next visitor sets one with the new setup code),
    or setup-code (show the code while no password is set)."""
    from web.files import WebFiles  # the web admin's own files (the CLI is the composition root)
    files = WebFiles(Path(args.data_dir) / "web")
    if args.action == "reset":
        files.admin_path.unlink(missing_ok=True)
        files.setup_path.unlink(missing_ok=True)
        print("web admin password removed; signed-in sessions end")
    if files.has_password():
        print("a web admin password is set (no setup code); 'web-password reset' to forget it")
    else:
        print(f"web admin setup code: {files.setup_code()}")
    return 0


def _print_json(value) -> int:
    json.dump(value, sys.stdout, indent=2, default=str)
    print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description="Switchboard call-center box")
    parser.add_argument("--data-dir", default=os.environ.get("SWITCHBOARD_DATA_DIR", DEFAULT_DATA_DIR),
                        help="the box's data directory (default: $SWITCHBOARD_DATA_DIR or ./data)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, fn, parent=sub):
        p = parent.add_parser(name, help=fn.__doc__.splitlines()[0], description=fn.__doc__)
        p.set_defaults(fn=fn)
        # Accept --data-dir after the command too (`switchboard status --data-dir X`).
        p.add_argument("--data-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return p

    p = command("engine", cmd_engine)
    p.add_argument("--sip-port", type=int, help="SIP port (default: from the configuration)")
    p.add_argument("--sim", action="store_true", help="simulated hardware (stations, lines)")
    p = command("run", cmd_run)
    p.add_argument("--sim", action="store_true", help="simulated hardware (stations, lines)")
    p.add_argument("--sip-port", type=int, help="SIP port (default: from the configuration, 5060)")
    p.add_argument("--web-port", type=int, default=8080, help="web admin port on 127.0.0.1 (0: no web admin)")
    p = command("status", cmd_status)
    p.add_argument("--json", action="store_true")
    p = command("calls", cmd_calls)
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--recordings", action="store_true", help="show each call's recording file")
    cli_box.add_call_filters(p)
    p = command("operator", cmd_operator)
    p.add_argument("name")
    p.add_argument("action", choices=["ready", "pause", "logout", "transfer"])
    p.add_argument("target", nargs="?", help="transfer: an operator's name, or queue")
    p.add_argument("--reason", help="why (pause), e.g. lunch")
    config = sub.add_parser("config", help="configuration: export, import, check, keys").add_subparsers(
        dest="config_command", required=True, metavar="ACTION")
    p = command("export", cmd_config_export, config)
    p.add_argument("file", nargs="?")
    p = command("import", cmd_config_import, config)
    p.add_argument("file")
    p = command("get", cmd_config_get, config)
    p.add_argument("key")
    p = command("set", cmd_config_set, config)
    p.add_argument("key")
    p.add_argument("value", help='a TOML value: 30, true, "text", ["a", "b"]')
    p = command("check", cmd_config_check, config)
    p.add_argument("file")
    command("keys", cmd_config_keys, config)
    command("reload", cmd_reload)
    edge = sub.add_parser("edge", help="the SIP edge: operators' SIP passwords, bans, its configuration").add_subparsers(
        dest="edge_command", required=True, metavar="ACTION")
    p = command("password", cmd_edge_password, edge)
    p.add_argument("name", help="the operator")
    p.add_argument("--username", help="the user name the phone registers with (default: the operator's)")
    p = command("unban", cmd_edge_unban, edge)
    p.add_argument("address")
    p = command("render", cmd_edge_render, edge)
    p.add_argument("--check", action="store_true", help="also run kamailio -c on the result")
    p = command("hours", cmd_hours)
    p.add_argument("mode", choices=["auto", "day", "night"])
    p = command("console", cmd_console)
    p.add_argument("--tty", help="serial device to run on (default: this terminal)")
    command("disk", cmd_disk)
    command("network", cmd_network)
    p = command("line", cmd_line)
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p = command("panel-test", cli_technician.cmd_panel_test)
    p.add_argument("--seconds", type=float, default=10)
    p = command("watchdog-test", cmd_watchdog_test)
    p.add_argument("--seconds", type=float, default=30)
    p = command("log", cmd_log)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--follow", action="store_true", help="keep showing new entries (Enter or Ctrl-C stops)")
    p = command("web", cmd_web)
    p.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for the office network)")
    p.add_argument("--under-run", action="store_true", help=argparse.SUPPRESS)  # started by `switchboard run`
    cli_callers.add_commands(command)
    cli_technician.add_commands(command)
    cli_box.add_commands(command)
    p = command("update", cmd_update)
    p.add_argument("bundle", help="a release bundle (make bundle): switchboard-VERSION.bundle.tar")
    p.add_argument("--timeout", type=float, default=90, help="seconds the new engine has to get ready")
    command("reboot", cmd_reboot)
    command("shutdown", cmd_shutdown)
    command("factory-reset", cmd_factory_reset)
    p = command("network-settings", cmd_network_settings)
    p.add_argument("action", choices=["show", "dhcp", "static"])
    p.add_argument("address", nargs="?", help="static: ADDRESS/PREFIX, e.g. 192.168.1.50/24")
    p.add_argument("--gateway", help="static: the router's address")
    p.add_argument("--dns", nargs="*", help="static: DNS servers")
    p.add_argument("--interface", default="eth0")
    p = command("web-password", cmd_web_password)
    p.add_argument("action", choices=["reset", "setup-code"])
    p = command("encode", cmd_encode)
    p.add_argument("--once", action="store_true", help="encode what is pending, then exit")
    p.add_argument("--interval", type=float, default=30, help="seconds between looks for new recordings")
    p = command("init", cmd_init)
    p.add_argument("--factory", help="the image's own release folder (holding venv/)")
    sim = sub.add_parser("sim", help="simulation helpers: call the box, press station buttons").add_subparsers(
        dest="sim_command", required=True, metavar="ACTION")
    p = command("call", cmd_sim_call, sim)
    p.add_argument("--number", default="100", help="the dialled number (default 100)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--sip-port", type=int, help="the box's SIP port (default: asked of the running engine)")
    p.add_argument("--digits", help="DTMF digits to send after the greeting, e.g. 1")
    p.add_argument("--digit-delay", type=float, default=4.0, help="seconds after answer before the digits")
    p.add_argument("--talk", type=float, help="hang up this many seconds after the digits")
    p.add_argument("--tone", type=float, default=600, help="the caller 'speaks' a tone of this frequency")
    p.add_argument("--caller-id", help="the caller's number")
    p.add_argument("--record", help="save what the caller heard to this WAV file")
    p.add_argument("--max-seconds", type=float, default=120)
    p.add_argument("--json", action="store_true")
    p = command("line", cmd_sim_line, sim)
    p.add_argument("line")
    p.add_argument("action", choices=["ring", "dtmf", "voice", "busy", "silence", "loopbreak", "unplug",
                                      "replug", "heard", "dialtone"])
    p.add_argument("value", nargs="?")
    p = command("ring", cmd_sim_ring, sim)
    p.add_argument("line", help="a modem line of the box")
    p.add_argument("--caller-id", help="the caller's number, sent between the first two rings (none if omitted)")
    p.add_argument("--audio", help="a WAV file the caller speaks, looped (PCM, any rate)")
    p.add_argument("--digits", help="DTMF digits the caller presses after the box answers, e.g. 1")
    p.add_argument("--digit-delay", type=float, default=4.0, help="seconds after the answer before the digits")
    p = command("press", cmd_sim_press, sim)
    p.add_argument("station")
    p.add_argument("button", choices=["answer", "ready", "transfer"])
    p.add_argument("--long", action="store_true", help="hold the button (a long press)")
    p = command("headset", cmd_sim_headset, sim)
    p.add_argument("station")
    p.add_argument("action", choices=["unplug", "plug"])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr)
    return dispatch(args)


def run_command(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    """One command line, parsed and run in this process (the console's way of running commands)."""
    return dispatch(parser.parse_args(argv))


def dispatch(args) -> int:
    try:
        return args.fn(args) or 0
    except settings_mod.SettingsError as exc:
        print("configuration refused:", file=sys.stderr)
        for key, value, reason in exc.problems:
            print(f"  {key} = {value!r}: {reason}", file=sys.stderr)
        return 2
    except (EngineNotRunning, ControlError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"switchboard: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
