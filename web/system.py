"""System: version, engine uptime, disk space of the data directory, SIP capacity and the engine's log."""

from __future__ import annotations

import datetime as dt
import shutil

from flask import Blueprint, render_template

from firmware.store import queries
from web.box import box, db

bp = Blueprint("system", __name__)
LOG_ROWS = 100


@bp.route("/system")
def index():
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
                           store=_sizes(), log=rows, data_dir=box().data_dir)


def _sizes() -> dict:
    folder = box().recordings_folder
    files = list(folder.glob("*.wav")) if folder.is_dir() else []
    db_files = [p for p in box().data_dir.glob("switchboard.db*") if p.is_file()]
    return {"recordings": len(files), "recordings_bytes": sum(p.stat().st_size for p in files),
            "db_bytes": sum(p.stat().st_size for p in db_files)}
