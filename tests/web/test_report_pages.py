"""Reports over a period: the pure aggregation by hour and day, per operator, and the page with its
SVG charts (no script, nothing from elsewhere)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from firmware.store import db as dbmod, reports
from tests.web.conftest import TODAY, at


@pytest.fixture
def db(data_dir):
    conn = dbmod.open_read(data_dir)
    yield conn
    conn.conn.close()


def test_calls_by_hour_and_by_day_with_service_level_and_abandon_rate(db):
    days = [TODAY.date() - dt.timedelta(days=1), TODAY.date()]
    rows = reports.period_rows(db, at(0, day=-1), at(24))
    data = reports.by_hour_and_day(rows, dt.timezone.utc, days, threshold_s=20)
    hours = {h["hour"]: h for h in data["hours"]}
    assert hours[1]["calls"] == 1 and hours[1]["answered"] == 1  # c1 at 01:00
    assert hours[3] == {"hour": 3, "calls": 1, "answered": 0, "abandoned": 1}  # c3
    assert hours[10]["answered"] == 1  # y1, yesterday
    assert sum(h["calls"] for h in data["hours"]) == 8
    yesterday, today = data["days"]
    assert (yesterday["calls"], yesterday["offered"], yesterday["answered"]) == (1, 1, 1)
    assert yesterday["service_level_pct"] == 100.0 and yesterday["abandon_pct"] == 0.0
    # today: offered c1-c4 and c7; answered c1, c2; abandoned c3; timed out c4, c7; in time: c1 only
    assert (today["calls"], today["offered"], today["answered"], today["abandoned"], today["timed_out"]) == (7, 5, 2, 1, 2)
    assert today["service_level_pct"] == 20.0 and today["abandon_pct"] == 20.0
    # the day's figures agree with the dashboard's
    assert today["service_level_pct"] == reports.figures(db, at(0), at(24), 20)["service_level_pct"]


def test_local_days_and_hours_follow_the_office_time_zone(db):
    zone = dt.timezone(dt.timedelta(hours=-3))  # 01:00 UTC today is 22:00 yesterday there
    days = [TODAY.date() - dt.timedelta(days=1), TODAY.date()]
    data = reports.by_hour_and_day(reports.period_rows(db, at(0, day=-1), at(24)), zone, days)
    assert [data["hours"][h]["calls"] for h in (22, 23, 0, 1)] == [1, 1, 1, 1]  # c1-c4 at 01:00-04:00 UTC
    assert data["days"][0]["calls"] == 1 + 2  # y1, and c1, c2 (before 03:00 UTC)


def test_a_day_without_calls_has_no_rates(db):
    empty_day = TODAY.date() + dt.timedelta(days=3)
    data = reports.by_hour_and_day([], dt.timezone.utc, [empty_day])
    assert data["days"][0]["service_level_pct"] is None and data["days"][0]["abandon_pct"] is None


def test_per_operator(db):
    ops = {o["operator"]: o for o in reports.per_operator(db, at(0, day=-1), at(24))}
    assert ops["st1"]["answered"] == 2 and ops["st1"]["talk_s"] == 90.0 and ops["st1"]["avg_wait_s"] == 3.5
    assert ops["st2"]["answered"] == 1 and ops["st2"]["avg_talk_s"] == 120.0
    assert ops["st1"]["missed"] == 0


def test_reports_page_draws_its_charts_as_svg(admin):
    page = admin.get("/reports?days=7").get_data(as_text=True)
    assert page.count('<svg class="chart"') == 3
    assert "Calls per day" in page and "Service level and abandon rate" in page and "Calls by hour of the day" in page
    assert "<title>01: 1 answered</title>" in page  # c1, a tooltip on its bar
    assert re.search(r'<circle class="line-sl"[^>]*><title>[^<]*: 20 % service level', page)
    assert "<script" not in page.split("</head>")[1] and "http" not in page.split("<svg")[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", "")
    assert "<strong>st1</strong>" in page and "<strong>st2</strong>" in page
    today = at(12)[:10]
    assert admin.get(f"/reports?from={today}&to={today}").status_code == 200
    assert admin.get("/reports?from=garbage&days=-5").status_code == 200
