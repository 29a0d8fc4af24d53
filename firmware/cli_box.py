"""`switchboard recordings`, `backup`, `restore` and `restart`: what the web admin's Recordings and
System pages do, for the console (parity with the web admin, with no network). Reads go to the
database; changes go through the engine's control socket, as the web admin's do."""

from __future__ import annotations

import secrets
import shutil
import tomllib
from importlib import metadata
from pathlib import Path

from firmware.control.client import request
from firmware.store import db as dbmod, queries

LIST_SCAN = 2000  # recent calls looked at for recordings


def _confirmed(word: str) -> bool:
    from firmware.cli import _confirmed as confirmed  # the CLI's own prompt (the console runs it too)
    return confirmed(word)


def cmd_recordings(args) -> int:
    """Recordings: list (newest first, with their files and sizes, the retention limits and the
    latest deletions), delete CALL_ID (asks you to type delete; logged), or retention (apply the
    retention limits now)."""
    if args.action == "delete":
        if not args.call_id:
            raise ValueError("recordings delete needs the CALL_ID (first column of the list)")
        print(f"This deletes the recording of call {args.call_id} for good.")
        if not _confirmed("delete"):
            return 1
        print(request(args.data_dir, "delete_recording", call_id=args.call_id, by="console")["message"])
        return 0
    if args.action == "retention":
        print(request(args.data_dir, "retention_run", timeout=120, by="console")["message"])
        return 0
    from firmware.encoder import current_file
    db = dbmod.open_read(args.data_dir)
    rows = [r for r in queries.recent_calls(db, LIST_SCAN) if r.get("recording")][: args.limit]
    if not rows:
        print("no recordings")
    for r in rows:
        path = current_file(r["recording"])
        size = f"{path.stat().st_size / 1e6:6.2f} MB" if path else "  MISSING"
        print(f"{r['id']:<14} {r['started_at'][:19].replace('T', ' ')}  {r['caller_id'] or '-':<16}"
              f" {r['operator'] or '':<10} {size}  {path.name if path else r['recording']}")
    text = queries.current_config(db)
    recording = tomllib.loads(text).get("recording", {}) if text else {}
    print("retention: " + ", ".join(f"{k} {recording.get(k, 0) or 'no limit'}"
                                      for k in ("keep_days", "max_total_mb", "keep_free_mb")))
    for row in queries.log_of(db, "recordings", 10):
        print(f"  {row['at'][:19]}  {row['message']}")
    return 0


def cmd_backup(args) -> int:
    """Write a backup ZIP (the configuration, a consistent snapshot of the database, uploaded prompt
    recordings; not call recordings), as the web admin's System page does."""
    from firmware.store import backup
    out = Path(args.file)
    if out.exists() and not args.force:
        raise ValueError(f"{out} exists; --force to overwrite it")
    manifest = backup.make(Path(args.data_dir), out, _version())
    print(f"backup of {manifest['created_at']} written to {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_restore(args) -> int:
    """Restore a backup ZIP: the engine checks all of it and refuses it with every reason (nothing
    changes), or stages it and restarts to put it in place (asks you to type restore)."""
    source = Path(args.file)
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such file")
    print("This replaces the configuration and every call record with the backup's (the current database"
          " is kept in data/restore/previous-*), then restarts the engine: calls in progress end.")
    if not _confirmed("restore"):
        return 1
    staging = Path(args.data_dir) / "restore"
    staging.mkdir(exist_ok=True)
    path = staging / f"upload-{secrets.token_hex(6)}.zip"  # the engine reads only inside its data directory
    try:
        shutil.copyfile(source, path)
        result = request(args.data_dir, "restore", timeout=120, path=str(path), by="console")
    finally:
        path.unlink(missing_ok=True)
    if not result.get("restored"):
        print(f"not restored: {source} was refused; nothing changed:")
        for problem in result["problems"]:
            print(f"  {problem}")
        return 1
    print(result["message"])
    return 0


def cmd_restart(args) -> int:
    """Restart the engine (systemd starts it again); calls in progress end (asks you to type restart)."""
    if not _confirmed("restart"):
        return 1
    print(request(args.data_dir, "restart", by="console")["message"])
    return 0


def _office_zone(db):
    from zoneinfo import ZoneInfo
    text = queries.current_config(db)
    return ZoneInfo(tomllib.loads(text).get("hours", {}).get("timezone", "UTC") if text else "UTC")


def _day_start(day: str, zone, after: int = 0) -> str:
    import datetime as dt
    from firmware.timeutil import iso
    date = dt.date.fromisoformat(day) + dt.timedelta(days=after)  # ValueError: shown as a clear error
    return iso(dt.datetime.combine(date, dt.time(0), tzinfo=zone))


def add_call_filters(p) -> None:
    """`switchboard calls` narrowed as on the web admin's Calls page, and its CSV export."""
    from firmware.store.reports import DISPOSITIONS
    p.add_argument("--caller", help="part of the caller's number or name")
    p.add_argument("--operator", help="the operator who took the call")
    p.add_argument("--outcome", choices=DISPOSITIONS, help="the call's disposition")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="calls from this day on (office time)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="calls up to and including this day (office time)")
    p.add_argument("--csv", action="store_true", help="as CSV (the web admin's export columns)")


def calls_for(args, db) -> list[dict]:
    """The call records `switchboard calls` lists: the newest, or those its filters select."""
    from firmware.store import reports
    if not any((args.caller, args.operator, args.outcome, args.since, args.until)):
        return queries.recent_calls(db, args.limit)
    zone = _office_zone(db)
    flt = reports.CallFilter(start=_day_start(args.since, zone) if args.since else None,
                             end=_day_start(args.until, zone, 1) if args.until else None,
                             caller=args.caller or "", operator=args.operator or "", disposition=args.outcome or "")
    return reports.search_calls(db, flt, limit=args.limit)


def print_csv(rows: list[dict]) -> int:
    import csv
    import sys
    from firmware.store.reports import LIST_FIELDS
    writer = csv.writer(sys.stdout)
    writer.writerow(LIST_FIELDS)
    for row in rows:
        writer.writerow(["" if row.get(k) is None else row.get(k) for k in LIST_FIELDS])
    return 0


def cmd_figures(args) -> int:
    """The queue figures the web dashboard and reports show, for today (or --date, and --days before
    it) in the office's time zone: offered, answered, abandoned, timed out, service level, average
    speed of answer, average handle time, longest wait; then per operator."""
    import datetime as dt
    from firmware.store import reports
    from firmware.timeutil import iso
    db = dbmod.open_read(args.data_dir)
    zone = _office_zone(db)
    last = dt.date.fromisoformat(args.date) if args.date else dt.datetime.now(zone).date()
    first = last - dt.timedelta(days=args.days - 1)
    start = iso(dt.datetime.combine(first, dt.time(0), tzinfo=zone))
    end = iso(dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone))
    f = reports.figures(db, start, end, args.sl)
    secs = lambda v: "-" if v is None else f"{v:.0f} s"
    print(f"{first}{'' if first == last else ' to ' + str(last)} ({zone}): {f['calls']} calls, {f['offered']} offered"
          f" to a queue, {f['answered']} answered, {f['abandoned']} abandoned, {f['timed_out']} timed out")
    level = "-" if f["service_level_pct"] is None else f"{f['service_level_pct']:g} %"
    print(f"service level (answered within {args.sl:g} s): {level}; average speed of answer {secs(f['asa_s'])};"
          f" average handle time {secs(f['aht_s'])}; longest wait {secs(f['longest_wait_s'])}")
    for op in reports.per_operator(db, start, end):
        print(f"  {op['operator']:<12} answered {op['answered']:>4}  talk {op['talk_s'] or 0:>7.0f} s"
              f"  average wait {secs(op['avg_wait_s']):>6}  missed rings {op['missed']}")
    return 0


def cmd_call(args) -> int:
    """One call's record and its queue timeline (enter, ring, connect, transfer, ...), as the web
    admin's call page shows it."""
    db = dbmod.open_read(args.data_dir)
    row = queries.call(db, args.call_id)
    if row is None:
        raise KeyError(f"no call {args.call_id!r}")
    for key in ("id", "started_at", "line", "caller_id", "caller_name", "dialled", "direction", "queue",
                "operator", "wait_s", "talk_s", "disposition", "end_reason", "ended_at", "recording"):
        if row.get(key) not in (None, ""):
            print(f"{key:<12} {row[key]}")
    for event in queries.queue_events(db, args.call_id):
        print(f"  {event['at'][11:19]}  {event['event']:<14} {event['queue'] or '':<12} {event['operator'] or '':<10}"
              f" {event['detail'] or ''}")
    return 0


def _version() -> str:
    try:
        return metadata.version("switchboard")
    except metadata.PackageNotFoundError:
        return "unknown"


def add_commands(command) -> None:
    p = command("recordings", cmd_recordings)
    p.add_argument("action", nargs="?", choices=["list", "delete", "retention"], default="list")
    p.add_argument("call_id", nargs="?", help="delete: the call whose recording goes")
    p.add_argument("--limit", type=int, default=30)
    p = command("backup", cmd_backup)
    p.add_argument("file", help="where to write the ZIP, e.g. /media/usb/switchboard-backup.zip")
    p.add_argument("--force", action="store_true", help="overwrite FILE")
    p = command("restore", cmd_restore)
    p.add_argument("file", help="a backup ZIP made by `switchboard backup` or the web admin")
    command("restart", cmd_restart)
    p = command("figures", cmd_figures)
    p.add_argument("--date", help="the (last) day, YYYY-MM-DD (default: today)")
    p.add_argument("--days", type=int, default=1, help="this many days up to --date")
    p.add_argument("--sl", type=float, default=20.0, help="service-level threshold in seconds (default 20)")
    p = command("call", cmd_call)
    p.add_argument("call_id", help="a call's id (first column of switchboard recordings, or calls --json)")
