"""The configuration as TOML in an editor: Save sends it to the engine (`config_import` validates,
saves in one transaction and applies it; the web does not load the settings schema itself). A refusal shows every problem beside the editor and keeps
the text as typed. The day/night switch is here too (posted to the dashboard's /hours)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from firmware.control.client import ControlError, EngineNotRunning
from firmware.store import queries, reports
from web.box import box, db

bp = Blueprint("config", __name__)


def _page(text: str, *, problems=(), error: str | None = None, base_id: int | None = None, code: int = 200,
          conflict: bool = False):
    conn = db()
    status, engine_error = box().status()
    return render_template(
        "config.html", text=text, problems=list(problems), error=error, engine_error=engine_error, conflict=conflict,
        hours=status["hours"] if status else None,
        base_id=base_id if base_id is not None else (reports.current_config_id(conn) if conn else None),
        history=reports.config_history(conn) if conn is not None else []), code


@bp.route("/config")
def edit():
    conn = db()
    text = queries.current_config(conn) if conn is not None else None
    return _page(text or "")


@bp.route("/config", methods=["POST"])
def save():
    text = request.form.get("toml", "").replace("\r\n", "\n")
    base_id = request.form.get("base_id", type=int)
    conn = db()
    current_id = reports.current_config_id(conn) if conn is not None else None
    if request.form.get("force") != "1" and base_id != current_id:
        return _page(text, base_id=base_id, code=409, conflict=True, error=(
            "The configuration was changed elsewhere since this page was opened. Your text is kept below; "
            "press Save anyway to replace the newer one, or reload the page to start from it."))
    try:  # the engine validates (every problem at once), saves and applies
        result = box().command("config_import", timeout=120, toml=text, source=f"web admin ({request.remote_addr})")
    except ControlError as exc:
        if exc.problems:
            return _refused(text, base_id, exc.problems)
        return _page(text, base_id=base_id, error=f"The engine refused it: {exc}", code=422)
    except EngineNotRunning:
        return _page(text, base_id=base_id, code=503, error=(
            "The engine is not running, so the configuration was neither checked nor saved (the engine "
            "keeps the store). Your text is kept below: start the engine and save again."))
    flash(f"Saved and applied: {result['message']}.", "ok")
    return redirect(url_for("config.edit"))


def _refused(text: str, base_id: int | None, problems) -> tuple:
    rows = [{"key": k, "value": v, "reason": r} for k, v, r in problems]
    return _page(text, problems=rows, base_id=base_id, code=422,
                 error=f"Not saved: {len(rows)} problem{'s' * (len(rows) != 1)}. Nothing was changed.")
