"""Control-socket commands for the callers not served yet: close a worklist entry; mark, or delete,
a voicemail message. They change the store through the one writer; the engine hears the new count
of unheard messages (the box LED)."""

from __future__ import annotations

from pathlib import Path

from firmware import events as ev
from firmware.engine.worklist import number_of
from firmware.store import db as dbmod, queries
from firmware.timeutil import iso_now


def worklist_done(server, req: dict) -> dict:
    number = number_of(str(req["number"]))
    if number is None:
        raise ValueError(f"{req['number']!r} is not a phone number")
    by = str(req.get("by") or "someone")
    if not server.writer.worklist_handled(number, f"marked done by {by}", wait=True):
        raise KeyError(f"no open worklist entry for {number}")
    return {"message": f"{number}: marked done"}


def message(server, req: dict) -> dict:
    action, message_id = req["action"], int(req["id"])
    db = dbmod.open_read(server.data_dir)
    try:
        row = queries.message(db, message_id)
    finally:
        db.conn.close()
    if row is None:
        raise KeyError(f"no voicemail message {message_id}")
    by = f" by {req['by']}" if req.get("by") else ""
    if action == "heard":
        server.writer.message_marked(message_id, heard_at=row["heard_at"] or iso_now())
    elif action == "handled":
        server.writer.message_marked(message_id, heard_at=row["heard_at"] or iso_now(), handled_at=iso_now())
    elif action == "delete":
        folder = (server.data_dir / "voicemail").resolve()
        path = Path(row["path"]).resolve()
        if not path.is_relative_to(folder):
            raise ValueError(f"refused: {row['path']} is not inside {folder}")
        path.unlink(missing_ok=True)
        server.writer.message_marked(message_id)
        server.writer.log("info", "voicemail", f"deleted message {message_id} from {row['caller_id'] or 'a withheld number'}"
                                               f" in {row['mailbox']} ({path.name}){by}")
    else:
        raise ValueError(f"unknown action {action!r}: heard, handled or delete")
    db = dbmod.open_read(server.data_dir)
    try:
        unheard = queries.unheard_messages(db)
    finally:
        db.conn.close()
    server.post(ev.MessagesChanged(unheard))
    return {"message": f"message {message_id}: {action}", "unheard": unheard}
