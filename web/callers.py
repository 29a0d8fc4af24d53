"""Callers not served yet: the worklist (once per number, until someone marks it done or a later call
is answered), voicemail messages (play, mark heard or handled, delete) and queue callbacks. Reads come
from the store; every change goes to the engine over the control socket."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for

from firmware.control.client import ControlError, EngineNotRunning
from firmware.store import queries
from web.box import box, db

bp = Blueprint("callers", __name__)


@bp.route("/callers")
def index():
    conn = db()
    everything = request.args.get("all") == "1"
    status, problem = box().status()
    return render_template(
        "callers.html", everything=everything, problem=problem,
        worklist=queries.worklist(conn, include_handled=everything) if conn is not None else [],
        messages=queries.messages(conn, include_handled=everything) if conn is not None else [],
        callbacks=(status or {}).get("callbacks", []), alerts=(status or {}).get("alerts", []))


@bp.route("/callers/worklist/done", methods=["POST"])
def worklist_done():
    return _command("worklist_done", f"{request.form.get('number', '')} marked done",
                    number=request.form.get("number", ""), by=f"web admin ({request.remote_addr})")


@bp.route("/callers/messages/<message_id>/<action>", methods=["POST"])
def message(message_id: str, action: str):
    message_id = _message_number(message_id)
    if action not in ("heard", "handled", "delete"):
        abort(404, description=f"Unknown action {action!r}.")
    if action == "delete" and request.form.get("confirm") != "yes":
        flash("Tick the box to confirm the deletion: a deleted message cannot be brought back.", "error")
        return redirect(url_for("callers.index"))
    return _command("message", f"message {message_id}: {action}", id=message_id, action=action,
                    by=f"web admin ({request.remote_addr})")


@bp.route("/callers/messages/<message_id>.wav")
def audio(message_id: str):
    """The message for the <audio> player (conditional: Range requests get 206, so seeking works)."""
    message_id = _message_number(message_id)
    conn = db()
    row = queries.message(conn, message_id) if conn is not None else None
    if row is None:
        abort(404, description=f"There is no voicemail message {message_id}.")
    folder = (box().data_dir / "voicemail").resolve()
    path = Path(row["path"]).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        abort(404, description=f"The file of message {message_id} is missing.")
    return send_file(path, mimetype="audio/wav", conditional=True, etag=True, max_age=0)


def _message_number(text: str) -> int:
    if not text.isdigit():
        abort(404, description=f"There is no voicemail message {text!r}.")
    return int(text)


def _command(cmd: str, done: str, **args):
    try:
        box().command(cmd, **args)
    except EngineNotRunning:
        flash("The engine is not running: nothing was changed.", "error")
    except ControlError as exc:
        flash(f"Not done: {exc}", "error")
    else:
        flash(done.capitalize() + ".", "ok")
    return redirect(url_for("callers.index"))
