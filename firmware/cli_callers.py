"""`switchboard worklist`, `voicemail` and `callbacks`: the callers not served yet, and what to do
about them. Reads go to the database; changes go through the engine's control socket."""

from __future__ import annotations

import json
import sys

from firmware.control.client import request
from firmware.store import db as dbmod, queries


def cmd_worklist(args) -> int:
    """List the callers not served yet (abandoned, timed out, hung up after a choice, left a
    voicemail, callback given up), once per number; `worklist done NUMBER` closes an entry."""
    if args.action == "done":
        if not args.number:
            raise ValueError("worklist done needs the NUMBER to close")
        print(request(args.data_dir, "worklist_done", number=args.number, by=args.by or "console")["message"])
        return 0
    rows = queries.worklist(dbmod.open_read(args.data_dir), include_handled=args.all)
    if args.json:
        return _json(rows)
    if not rows:
        print("nobody is waiting to be called back")
    for r in rows:
        closed = f"  handled {r['handled_at'][:16]} ({r['handled_by']})" if r["handled_at"] else ""
        print(f"{r['at'][:19].replace('T', ' ')}  {r['number']:<16} x{r['attempts']:<3} {r['reason']}{closed}")
    return 0


def cmd_voicemail(args) -> int:
    """List voicemail messages (unhandled; --all for every one); `voicemail heard|handled|delete ID`."""
    if args.action != "list":
        if args.id is None:
            raise ValueError(f"voicemail {args.action} needs the message ID")
        print(request(args.data_dir, "message", id=args.id, action=args.action, by=args.by or "console")["message"])
        return 0
    rows = queries.messages(dbmod.open_read(args.data_dir), include_handled=args.all)
    if args.json:
        return _json(rows)
    if not rows:
        print("no messages")
    for r in rows:
        mark = "handled" if r["handled_at"] else "heard" if r["heard_at"] else "NEW"
        print(f"{r['id']:>5}  {r['at'][:19].replace('T', ' ')}  {r['mailbox']:<10} {r['caller_id'] or '(withheld)':<16}"
              f" {r['seconds']:>5.0f} s  {mark:<8} {r['path']}")
    return 0


def cmd_callbacks(args) -> int:
    """List queue callbacks: pending ones with their place and attempts, and how earlier ones ended."""
    rows = queries.callbacks(dbmod.open_read(args.data_dir), args.limit)
    if args.json:
        return _json(rows)
    if not rows:
        print("no callbacks asked for")
    for r in rows:
        print(f"{r['requested_at'][:19].replace('T', ' ')}  {r['number']:<16} {r['queue']:<12} {r['status']:<9}"
              f" attempts {r['attempts']}  {r['result'] or ''}")
    return 0


def add_commands(command) -> None:
    p = command("worklist", cmd_worklist)
    p.add_argument("action", nargs="?", choices=["list", "done"], default="list")
    p.add_argument("number", nargs="?", help="done: the number whose entry is closed")
    p.add_argument("--all", action="store_true", help="include handled entries")
    p.add_argument("--by", help="who handled it (recorded with the entry)")
    p.add_argument("--json", action="store_true")
    p = command("voicemail", cmd_voicemail)
    p.add_argument("action", nargs="?", choices=["list", "heard", "handled", "delete"], default="list")
    p.add_argument("id", nargs="?", type=int, help="the message ID (first column of the list)")
    p.add_argument("--all", action="store_true", help="include handled messages")
    p.add_argument("--by", help="who did it (recorded in the log)")
    p.add_argument("--json", action="store_true")
    p = command("callbacks", cmd_callbacks)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")


def _json(value) -> int:
    json.dump(value, sys.stdout, indent=2, default=str)
    print()
    return 0
