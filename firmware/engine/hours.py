"""Business hours: is the office open at a given moment? Pure; the clock is passed in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from firmware.settings import Hours

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OVERRIDES = ("auto", "day", "night")


def is_open(hours: Hours, now: dt.datetime, override: str = "auto") -> bool:
    """`now` is an aware datetime; `override` is the manual day/night switch ('auto' follows the schedule)."""
    if override == "day":
        return True
    if override == "night":
        return False
    local = now.astimezone(ZoneInfo(hours.timezone))
    if local.date() in hours.holidays:
        return False
    if not hours.weekly:
        return True
    day, time = DAYS[local.weekday()], local.time().replace(tzinfo=None)
    return any(day in p.days and p.open <= time < p.close for p in hours.weekly)
