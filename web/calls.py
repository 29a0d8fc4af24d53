"""Call records: the filtered, paginated list (newest first), its CSV export, and each call's page
with its queue-event timeline and recording."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math

from flask import Blueprint, Response, abort, render_template, request, url_for

from firmware.store import queries, reports
from web import recfiles, timefmt
from web.box import db, office_zone

bp = Blueprint("calls", __name__)

PAGE_SIZE = 50
CSV_LIMIT = 100_000
CSV_FIELDS = ("id", "started", "caller_id", "caller_name", "line", "dialled", "queue", "operator", "wait_s",
              "talk_s", "disposition", "end_reason", "recording")
FILTER_KEYS = ("from", "to", "caller", "operator", "disposition")


def filter_from_args(with_recording: bool = False) -> tuple[reports.CallFilter, dict]:
    """The CallFilter asked for by the query string (dates are the office's local days, `to` included)
    and the cleaned values to show back in the form."""
    zone = office_zone()
    start, end = timefmt.parse_date(request.args.get("from")), timefmt.parse_date(request.args.get("to"))
    disposition = request.args.get("disposition", "")
    form = {
        "from": start.isoformat() if start else "",
        "to": end.isoformat() if end else "",
        "caller": request.args.get("caller", "").strip()[:64],
        "operator": request.args.get("operator", "").strip()[:64],
        "disposition": disposition if disposition in reports.DISPOSITIONS else "",
    }
    flt = reports.CallFilter(
        start=timefmt.day_start(start, zone) if start else None,
        end=timefmt.day_start(end + dt.timedelta(days=1), zone) if end else None,
        caller=form["caller"], operator=form["operator"], disposition=form["disposition"],
        with_recording=with_recording)
    return flt, form


def page_of(flt: reports.CallFilter) -> dict:
    """The requested page of the filtered calls, with what the pager needs."""
    conn = db()
    total = reports.count_calls(conn, flt) if conn is not None else 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    rows = reports.search_calls(conn, flt, PAGE_SIZE, (page - 1) * PAGE_SIZE) if conn is not None else []
    return {"rows": rows, "total": total, "page": page, "pages": pages}


def page_url(endpoint: str, form: dict, page: int) -> str:
    args = {k: v for k, v in form.items() if v}
    return url_for(endpoint, **args, page=page) if page > 1 else url_for(endpoint, **args)


@bp.route("/calls")
def index():
    flt, form = filter_from_args()
    conn = db()
    return render_template("calls.html", form=form, **page_of(flt), page_url=page_url,
                           operators=reports.operators_seen(conn) if conn is not None else [],
                           dispositions=reports.DISPOSITIONS, store_missing=conn is None,
                           csv_url=url_for("calls.export", **{k: v for k, v in form.items() if v}))


@bp.route("/calls/export.csv")
def export():
    flt, _ = filter_from_args()
    conn = db()
    rows = reports.search_calls(conn, flt, CSV_LIMIT) if conn is not None else []
    zone = office_zone()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for r in rows:
        values = {**r, "started": timefmt.local(r["started_at"], zone)}
        writer.writerow([_cell(values.get(k)) for k in CSV_FIELDS])
    name = f"calls-{timefmt.today(zone).isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (caller names come from outside)."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in "+-" and not text[1:].replace(" ", "").isdigit()):
        return "'" + text
    return text


@bp.route("/calls/<call_id>")
def detail(call_id: str):
    conn = db()
    row = queries.call(conn, call_id) if conn is not None else None
    if row is None:
        abort(404, description=f"There is no call {call_id}.")
    events = queries.queue_events(conn, call_id)
    recording = recfiles.info(row)
    return render_template("call.html", call=row, events=events, recording=recording,
                           path=[p for p in (row.get("path") or "").split(" > ") if p])

