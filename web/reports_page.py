"""Reports: calls per hour of the day and per day, service level and abandon rate over time, and the
operators' figures, for a chosen period (office days), as server-made SVG charts and tables."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request

from firmware.store import reports
from web import charts, timefmt
from web.box import db, office_zone
from web.dashboard import threshold

bp = Blueprint("reports", __name__)

PERIODS = (7, 14, 30, 90)
MAX_DAYS = 366


def _period(zone) -> tuple[dt.date, dt.date]:
    """First and last office day asked for: ?days=N (up to today), or ?from=&to=; 14 days by default."""
    today = timefmt.today(zone)
    start, end = timefmt.parse_date(request.args.get("from")), timefmt.parse_date(request.args.get("to"))
    if start or end:
        end = min(end or today, today)
        start = start or end - dt.timedelta(days=13)
        if start > end:
            start, end = end, start
        return max(start, end - dt.timedelta(days=MAX_DAYS - 1)), end
    days = request.args.get("days", 14, type=int)
    days = days if days in PERIODS else 14
    return today - dt.timedelta(days=days - 1), today


@bp.route("/reports")
def index():
    zone = office_zone()
    first, last = _period(zone)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    start, end = timefmt.day_start(first, zone), timefmt.day_start(last + dt.timedelta(days=1), zone)
    sl = threshold()
    conn = db()
    rows = reports.period_rows(conn, start, end) if conn is not None else []
    data = reports.by_hour_and_day(rows, zone, days, sl)
    totals = reports.figures(conn, start, end, sl) if conn is not None else reports.empty_figures(sl)
    operators = reports.per_operator(conn, start, end) if conn is not None else []
    day_labels = [d.strftime("%d %b") if len(days) <= 31 else d.strftime("%d.%m") for d in days]
    hour_labels = [f"{h:02d}" for h in range(24)]
    figures = {
        "per_hour": charts.bars("Calls by hour of the day", hour_labels, [
            ("answered", "bar-answered", [h["answered"] for h in data["hours"]]),
            ("not answered", "bar-missed", [h["calls"] - h["answered"] for h in data["hours"]])]),
        "per_day": charts.bars("Calls per day", day_labels, [
            ("all calls", "bar-all", [d["calls"] for d in data["days"]]),
            ("answered", "bar-answered", [d["answered"] for d in data["days"]]),
            ("abandoned", "bar-missed", [d["abandoned"] for d in data["days"]])]),
        "rates": charts.lines("Service level and abandon rate per day", day_labels, [
            (f"service level (≤ {sl:g} s)", "line-sl", [d["service_level_pct"] for d in data["days"]]),
            ("abandon rate", "line-abandon", [d["abandon_pct"] for d in data["days"]])]),
    }
    return render_template("reports.html", first=first, last=last, periods=PERIODS, figures=figures, totals=totals,
                           days=data["days"], operators=operators, threshold_s=sl, store_missing=conn is None,
                           chosen=request.args.get("days", type=int) if not request.args.get("from") else None)
