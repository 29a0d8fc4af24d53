import datetime as dt

import pytest

from firmware.engine.hours import is_open
from firmware.settings import Hours

UTC = dt.timezone.utc
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def office(timezone="UTC", **kw):
    return Hours(timezone=timezone, weekly=[{"days": WEEKDAYS, "open": "09:00", "close": "17:00"}], **kw)


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


# 2024-01-15 is a Monday, 2024-01-20 a Saturday.

def test_open_within_a_weekly_period():
    assert is_open(office(), utc(2024, 1, 15, 12, 0))
    assert not is_open(office(), utc(2024, 1, 15, 18, 0))
    assert not is_open(office(), utc(2024, 1, 20, 12, 0))


def test_opening_time_is_open_closing_time_is_closed():
    assert not is_open(office(), utc(2024, 1, 15, 8, 59, 59))
    assert is_open(office(), utc(2024, 1, 15, 9, 0))
    assert is_open(office(), utc(2024, 1, 15, 16, 59, 59))
    assert not is_open(office(), utc(2024, 1, 15, 17, 0))


def test_several_periods_a_day():
    hours = Hours(weekly=[{"days": ["mon"], "open": "08:00", "close": "12:00"},
                          {"days": ["mon"], "open": "13:00", "close": "17:00"},
                          {"days": ["sat"], "open": "10:00", "close": "12:00"}])
    assert is_open(hours, utc(2024, 1, 15, 11, 0))
    assert not is_open(hours, utc(2024, 1, 15, 12, 30))
    assert is_open(hours, utc(2024, 1, 15, 13, 0))
    assert is_open(hours, utc(2024, 1, 20, 11, 0))
    assert not is_open(hours, utc(2024, 1, 16, 11, 0))


def test_time_zone_decides_at_the_boundary():
    # 08:30 UTC is 09:30 in Berlin in winter (UTC+1): open there, not yet in a UTC office.
    morning = utc(2024, 1, 15, 8, 30)
    assert is_open(office("Europe/Berlin"), morning)
    assert not is_open(office("UTC"), morning)
    # 16:30 UTC is 17:30 in Berlin: closed there, still open in a UTC office.
    afternoon = utc(2024, 1, 15, 16, 30)
    assert not is_open(office("Europe/Berlin"), afternoon)
    assert is_open(office("UTC"), afternoon)


def test_time_zone_follows_summer_time():
    # In July Berlin is UTC+2: 07:00 UTC is 09:00 there, 06:59 UTC is 08:59.
    assert is_open(office("Europe/Berlin"), utc(2024, 7, 15, 7, 0))
    assert not is_open(office("Europe/Berlin"), utc(2024, 7, 15, 6, 59))


def test_the_local_weekday_counts():
    # Friday 23:30 UTC is already Saturday 00:30 in Berlin.
    hours = Hours(timezone="Europe/Berlin", weekly=[{"days": ["sat"], "open": "00:00", "close": "01:00"}])
    assert is_open(hours, utc(2024, 1, 19, 23, 30))
    assert not is_open(Hours(weekly=hours.weekly), utc(2024, 1, 19, 23, 30))


def test_now_in_another_zone_is_the_same_moment():
    tokyo = dt.timezone(dt.timedelta(hours=9))
    # 18:30 in Tokyo is 09:30 UTC.
    assert is_open(office(), dt.datetime(2024, 1, 15, 18, 30, tzinfo=tokyo))


def test_holiday_is_closed_all_day():
    hours = office(holidays=["2024-12-25"])  # a Wednesday
    assert not is_open(hours, utc(2024, 12, 25, 12, 0))
    assert is_open(hours, utc(2024, 12, 24, 12, 0))


def test_holiday_is_the_local_date():
    hours = Hours(timezone="Europe/Berlin", holidays=["2024-12-25"])
    assert not is_open(hours, utc(2024, 12, 24, 23, 30))  # 00:30 on the 25th in Berlin
    assert is_open(hours, utc(2024, 12, 25, 23, 30))      # 00:30 on the 26th


def test_empty_weekly_means_always_open():
    hours = Hours()
    assert is_open(hours, utc(2024, 1, 21, 3, 0))  # Sunday night
    assert is_open(hours, utc(2024, 1, 15, 12, 0))


def test_empty_weekly_still_closes_on_holidays():
    assert not is_open(Hours(holidays=["2024-01-01"]), utc(2024, 1, 1, 12, 0))


@pytest.mark.parametrize("moment, auto", [(utc(2024, 1, 15, 12, 0), True), (utc(2024, 1, 20, 12, 0), False),
                                          (utc(2024, 12, 25, 12, 0), False)])
def test_override(moment, auto):
    hours = office(holidays=["2024-12-25"])
    assert is_open(hours, moment, "day") is True
    assert is_open(hours, moment, "night") is False
    assert is_open(hours, moment, "auto") is auto
    assert is_open(hours, moment) is auto
