"""The configuration as TOML in an editor (the expert view; the forms are in web/config_forms.py):
Save sends it to the engine (`config_import` validates, saves in one transaction and applies it). A
refusal shows every problem beside the editor and keeps the text as typed."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from firmware.store import reports
from web import saving
from web.box import box, db

bp = Blueprint("config", __name__)


def _page(text: str, *, problems=(), error: str | None = None, base_id: int | None = None, code: int = 200,
          conflict: bool = False):
    conn = db()
    status, engine_error = box().status()
    return render_template(
        "config.html", text=text, problems=[{"key": k, "value": v, "reason": r} for k, v, r in problems],
        error=error, engine_error=engine_error, conflict=conflict, hours=status["hours"] if status else None,
        base_id=base_id if base_id is not None else (reports.current_config_id(conn) if conn else None),
        history=reports.config_history(conn) if conn is not None else []), code


@bp.route("/config/toml")
def edit():
    return _page(saving.current()[0])


@bp.route("/config/toml", methods=["POST"])
def save():
    text = request.form.get("toml", "").replace("\r\n", "\n")
    base_id = saving.base_id_of_form()
    outcome = saving.save(text, base_id, force=request.form.get("force") == "1")
    if not outcome.ok:
        return _page(text, problems=outcome.problems, error=outcome.error, base_id=base_id, code=outcome.code,
                     conflict=outcome.conflict)
    flash(outcome.message, "ok")
    return redirect(url_for("config.edit"))
