"""System: version, engine uptime, disk space of the data directory, SIP capacity and the engine's log."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from firmware.control.client import ControlError, EngineNotRunning
from firmware.store import backup, queries
from web.box import box, db
from web.security import log_in

bp = Blueprint("system", __name__)
LOG_ROWS = 100


@bp.route("/system")
def index(password_errors: dict | None = None, restore_error: str | None = None, restore_problems=(), code: int = 200,
          update_error: str | None = None):
    status, engine_error = box().status()
    uptime = None
    if status and status.get("started_at"):
        started = dt.datetime.fromisoformat(status["started_at"])
        uptime = (dt.datetime.now(dt.timezone.utc) - started).total_seconds()
    disk = shutil.disk_usage(box().data_dir)
    conn = db()
    rows = queries.log_entries(conn, LOG_ROWS) if conn is not None else []
    return render_template("system.html", status=status, engine_error=engine_error, uptime=uptime,
                           disk=disk, disk_used_pct=100.0 * (disk.total - disk.free) / disk.total if disk.total else 0,
                           store=_sizes(), log=rows, data_dir=box().data_dir, password_errors=password_errors or {},
                           restore_error=restore_error, restore_problems=list(restore_problems),
                           update_error=update_error, update=current_app.extensions["switchboard-update"].snapshot()), code


def _sizes() -> dict:
    folder = box().recordings_folder
    files = [p for p in folder.iterdir() if p.suffix in (".wav", ".webm")] if folder.is_dir() else []
    db_files = [p for p in box().data_dir.glob("switchboard.db*") if p.is_file()]
    return {"recordings": len(files), "recordings_bytes": sum(p.stat().st_size for p in files),
            "db_bytes": sum(p.stat().st_size for p in db_files)}


# --- backup, restore, restart, the admin password -------------------------------------------------

@bp.route("/system/backup")
def backup_download():
    """A backup made now: the configuration and a consistent snapshot of the database (versioned)."""
    if db() is None:
        abort(404, description="There is nothing to back up yet: the engine has never run with this data directory.")
    out = tempfile.NamedTemporaryFile(prefix="backup-", suffix=".zip", dir=box().files.folder, delete=False)
    out.close()
    path = Path(out.name)
    try:
        manifest = backup.make(box().data_dir, path, current_app.config["VERSION"])
        data = path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
    stamp = manifest["created_at"].replace(":", "").replace("-", "")[:15]
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="switchboard-backup-{stamp}.zip"'})


@bp.route("/system/restore", methods=["POST"])
def restore():
    """Check an uploaded backup (in the engine, completely) and put it in place with a restart; a
    refused one changes nothing and every reason is shown."""
    upload = request.files.get("backup")
    if upload is None or not upload.filename:
        return _problems("Choose a backup file (switchboard-backup-….zip) to restore.", [], 400)
    staging = box().data_dir / "restore"
    staging.mkdir(exist_ok=True)
    path = staging / f"upload-{secrets.token_hex(6)}.zip"
    try:
        upload.save(path)
        result = box().command("restore", timeout=120, path=str(path), by=f"web admin ({request.remote_addr})")
    except EngineNotRunning:
        return _problems("The engine is not running: a backup is checked and put in place by the engine. "
                         "Nothing was changed.", [], 503)
    except ControlError as exc:
        return _problems(f"Not restored: {exc}", [], 422)
    finally:
        path.unlink(missing_ok=True)
    if not result.get("restored"):
        return _problems(f"Not restored: {upload.filename} was refused. Nothing was changed.", result["problems"], 422)
    flash(f"Backup of {result['manifest']['created_at']} checked: {result['message']}. "
          "This page comes back once the engine runs again.", "ok")
    return redirect(url_for("system.index"))


@bp.route("/system/restart", methods=["POST"])
def restart():
    try:
        result = box().command("restart", by=f"web admin ({request.remote_addr})")
    except EngineNotRunning:
        flash("The engine is not running, so there is nothing to restart: start it with `switchboard engine` "
              "(systemd starts it by itself).", "error")
    except ControlError as exc:
        flash(f"Not restarted: {exc}", "error")
    else:
        flash(f"Restarting: {result['message']}.", "ok")
    return redirect(url_for("system.index"))


@bp.route("/system/password", methods=["POST"])
def password():
    files = box().files
    old, new, again = (request.form.get(k, "") for k in ("old_password", "new_password", "new_password_again"))
    errors = {}
    if not files.check_password(old):
        errors["old_password"] = "That is not the current password."
    elif new != again:
        errors["new_password_again"] = "The two new passwords differ."
    elif new == old:
        errors["new_password"] = "The new password is the same as the current one."
    else:
        try:
            files.set_password(new)
        except ValueError as exc:
            errors["new_password"] = str(exc).capitalize() + "."
    if errors:
        return index(password_errors=errors, code=400)
    log_in()  # this session goes on; every other one ends (they carry the old password's stamp)
    flash("The admin password is changed. Other sessions are logged out.", "ok")
    return redirect(url_for("system.index"))


def _problems(error: str, problems: list[str], code: int):
    return index(restore_error=error, restore_problems=problems, code=code)
