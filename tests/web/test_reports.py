"""The day's queue figures and call searches of firmware/store/reports.py, over a known store."""

from __future__ import annotations

import pytest

from firmware.store import db as dbmod, reports
from tests.web.conftest import at


@pytest.fixture
def db(data_dir):
    conn = dbmod.open_read(data_dir)
    yield conn
    conn.conn.close()


def test_figures_of_today(db):
    f = reports.figures(db, at(0), at(24), threshold_s=20)
    assert f["calls"] == 7
    # c1-c4 entered the queue, c7 was turned away (queue full); c5 (IVR) and c6 (rejected) were not offered
    assert (f["offered"], f["answered"], f["abandoned"], f["timed_out"]) == (5, 2, 1, 2)
    assert f["in_time"] == 1 and f["service_level_pct"] == 20.0  # only c1 waited <= 20 s
    assert f["asa_s"] == pytest.approx(17.5)
    assert f["talk_s"] == pytest.approx(90.0)
    assert f["wrapup_s"] == pytest.approx(8.0)  # st1 10 s, st2 6 s, from the operator log
    assert f["aht_s"] == pytest.approx(98.0)
    assert f["longest_wait_s"] == 300.0


def test_service_level_threshold_is_a_parameter(db):
    assert reports.figures(db, at(0), at(24), threshold_s=30)["service_level_pct"] == 40.0


def test_a_day_without_calls(db):
    f = reports.figures(db, at(0, day=5), at(24, day=5))
    assert f["offered"] == 0 and f["service_level_pct"] is None and f["asa_s"] is None and f["aht_s"] is None


def test_search_filters_and_order(db):
    everything = reports.search_calls(db, reports.CallFilter())
    assert [r["id"] for r in everything][:3] == ["c7", "c6", "c5"] and everything[-1]["id"] == "y1"
    today = reports.CallFilter(start=at(0), end=at(24))
    assert reports.count_calls(db, today) == 7
    assert [r["id"] for r in reports.search_calls(db, reports.CallFilter(operator="st1"))] == ["c1", "y1"]
    assert [r["id"] for r in reports.search_calls(db, reports.CallFilter(caller="1234"))] == ["c1"]
    assert [r["id"] for r in reports.search_calls(db, reports.CallFilter(disposition="abandoned"))] == ["c3"]
    assert [r["id"] for r in reports.search_calls(db, reports.CallFilter(with_recording=True))] == ["c1"]
    assert [r["id"] for r in reports.search_calls(db, today, limit=2, offset=2)] == ["c5", "c4"]


def test_search_treats_like_wildcards_as_text(db):
    assert reports.search_calls(db, reports.CallFilter(caller="%")) == []
    assert reports.search_calls(db, reports.CallFilter(caller="_")) == []
    assert [r["id"] for r in reports.search_calls(db, reports.CallFilter(caller="'; drop table calls; --"))] == []
    assert reports.count_calls(db, reports.CallFilter()) == 8


def test_config_history(db):
    history = reports.config_history(db)
    assert [h["source"] for h in history] == ["test"] and reports.current_config_id(db) == history[0]["id"]
