"""The dashboard / wallboard: the engine's live status merged with today's figures, polled as JSON;
operator buttons and the day/night switch (commands over the control socket)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from firmware.control.client import ControlError, EngineNotRunning
from firmware.store import reports
from firmware.timeutil import iso_now
from web import timefmt
from web.box import box, db, office_zone

bp = Blueprint("dashboard", __name__)

OPERATOR_ACTIONS = ("ready", "pause", "logout")
HOURS_MODES = ("auto", "day", "night")
PAUSE_REASONS = ("break", "lunch", "meeting", "training", "other work")
BACK = {"dashboard": "dashboard.index", "config": "forms.overview", "hours": "forms.hours"}


def threshold() -> float:
    """The service-level threshold: ?sl=N seconds, else the app's default."""
    value = request.args.get("sl", type=float)
    return value if value is not None and 0 < value <= 3600 else box().service_level_s


def today_figures(threshold_s: float) -> dict:
    zone = office_zone()
    start, end = timefmt.day_bounds(timefmt.today(zone), zone)
    conn = db()
    if conn is None:
        return reports.empty_figures(threshold_s)
    return reports.figures(conn, start, end, threshold_s)


def live() -> dict:
    status, problem = box().status()
    sl = threshold()
    return {"engine": status, "engine_error": problem, "figures": today_figures(sl), "now": iso_now(),
            "today": timefmt.today(office_zone()).isoformat(), "threshold_s": sl}


@bp.route("/")
def index():
    return render_template("dashboard.html", data=live(), poll_ms=box().poll_ms, reasons=PAUSE_REASONS)


@bp.route("/api/status")
def api_status():
    return jsonify(live())


@bp.route("/operators/<name>", methods=["POST"])
def operator(name: str):
    action = request.form.get("action", "")
    if action not in OPERATOR_ACTIONS:
        abort(400, description=f"unknown operator action {action!r}")
    reason = request.form.get("reason", "").strip()[:60] if action == "pause" else ""
    _send("operator", name=name, action=action, reason=reason)
    return redirect(url_for("dashboard.index"))


@bp.route("/hours", methods=["POST"])
def hours():
    mode = request.form.get("mode", "")
    if mode not in HOURS_MODES:
        abort(400, description=f"unknown hours mode {mode!r}")
    result = _send("hours", mode=mode)
    if result is not None:
        flash(f"The office is now {'open' if result.get('open') else 'closed'} (switch: {mode}).", "ok")
    return redirect(url_for(BACK.get(request.form.get("back", ""), "dashboard.index")))


def _send(cmd: str, **args) -> dict | None:
    """Send a command; its message (or why it failed) is flashed for the next page."""
    try:
        result = box().command(cmd, **args)
    except EngineNotRunning:
        flash("The engine is not running: nothing was changed.", "error")
        return None
    except ControlError as exc:
        flash(f"Refused: {exc}", "error")
        return None
    if isinstance(result, dict) and result.get("message") and cmd != "hours":
        flash(str(result["message"]), "ok")
    return result

