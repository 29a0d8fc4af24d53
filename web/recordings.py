"""Recordings: search by caller and date, play in the browser (HTTP Range, so seeking works), download,
and delete after a confirmation step (POST only; the engine deletes the file and logs it)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for

from firmware.control.client import ControlError, EngineNotRunning
import tomllib

from firmware.store import queries
from web import recfiles
from web.box import box, db
from web.calls import filter_from_args, page_of, page_url

bp = Blueprint("recordings", __name__)
DELETION_LOG_ROWS = 30


def _call_with_recording(call_id: str) -> dict:
    conn = db()
    row = queries.call(conn, call_id) if conn is not None else None
    if row is None or not row.get("recording"):
        abort(404, description=f"Call {call_id} has no recording.")
    return row


@bp.route("/recordings")
def index():
    flt, form = filter_from_args(with_recording=True)
    page = page_of(flt)
    files = {r["id"]: recfiles.info(r) for r in page["rows"]}
    conn = db()
    return render_template("recordings.html", form=form, files=files, page_url=page_url,
                           store_missing=conn is None, retention=_retention(conn),
                           deletions=queries.log_of(conn, "recordings", DELETION_LOG_ROWS) if conn is not None else [],
                           **page)


def _retention(conn) -> dict | None:
    """The stored retention limits (recording.keep_days, max_total_mb, keep_free_mb; 0 when not set)."""
    text = queries.current_config(conn) if conn is not None else None
    try:
        recording = tomllib.loads(text).get("recording", {}) if text else {}
    except tomllib.TOMLDecodeError:
        return None
    return {k: recording.get(k, 0) for k in ("keep_days", "max_total_mb", "keep_free_mb")}


@bp.route("/recordings/retention", methods=["POST"])
def retention():
    """Apply the retention limits now (the engine deletes and logs, as on its own timer)."""
    try:
        result = box().command("retention_run", timeout=60, by=f"web admin ({request.remote_addr})")
    except EngineNotRunning:
        flash("The engine is not running: recordings are deleted by the engine, nothing was deleted.", "error")
    except ControlError as exc:
        flash(f"Retention not applied: {exc}", "error")
    else:
        flash(f"Retention applied: {result['message']}.", "ok")
    return redirect(url_for("recordings.index"))


@bp.route("/recordings/<call_id>/audio")
def audio(call_id: str):
    """The recording for the <audio> player, WAV or (once encoded) Opus in WebM: conditional, so Range
    requests get 206 and seeking works."""
    path = recfiles.file_of(_call_with_recording(call_id))
    if path is None:
        abort(404, description=f"The recording file of call {call_id} is missing.")
    return send_file(path, mimetype=recfiles.mimetype(path), conditional=True, etag=True, max_age=0)


@bp.route("/recordings/<call_id>/download")
def download(call_id: str):
    path = recfiles.file_of(_call_with_recording(call_id))
    if path is None:
        abort(404, description=f"The recording file of call {call_id} is missing.")
    return send_file(path, mimetype=recfiles.mimetype(path), as_attachment=True,
                     download_name=f"call-{call_id}{path.suffix}", conditional=True)


@bp.route("/recordings/<call_id>/delete", methods=["GET", "POST"])
def delete(call_id: str):
    """GET asks for confirmation (and changes nothing); POST deletes, through the engine."""
    row = _call_with_recording(call_id)
    if request.method == "GET":
        return render_template("recording_delete.html", call=row, recording=recfiles.info(row))
    try:
        result = box().command("delete_recording", call_id=call_id, by=f"web admin ({request.remote_addr})")
    except EngineNotRunning:
        flash("The engine is not running, so nothing was deleted: recordings are deleted by the engine, "
              "which logs each deletion.", "error")
        return redirect(url_for("recordings.delete", call_id=call_id))
    except ControlError as exc:
        flash(f"Not deleted: {exc}", "error")
        return redirect(url_for("recordings.delete", call_id=call_id))
    flash(result["message"], "ok")
    return redirect(url_for("recordings.index"))
