"""Times and durations as the office reads them: the store keeps UTC, pages show the office's zone."""

from __future__ import annotations

import datetime as dt

from firmware.timeutil import iso


def local(text: str | None, zone: dt.tzinfo, seconds: bool = True) -> str:
    """'2026-05-01T08:00:03.120+00:00' -> '2026-05-01 10:00:03' in the office's zone."""
    if not text:
        return ""
    try:
        moment = dt.datetime.fromisoformat(text).astimezone(zone)
    except ValueError:
        return text
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def duration(seconds: float | None) -> str:
    """12.4 -> '12 s'; 185 -> '3:05'; 3725 -> '1:02:05'; None -> ''."""
    if seconds is None:
        return ""
    total = int(round(float(seconds)))
    if total < 60:
        return f"{total} s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def parse_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def day_start(day: dt.date, zone: dt.tzinfo) -> str:
    """The UTC ISO time of local midnight starting `day` (the store's format, comparable as text)."""
    return iso(dt.datetime.combine(day, dt.time(0), tzinfo=zone))


def today(zone: dt.tzinfo, now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.timezone.utc)).astimezone(zone).date()


def day_bounds(day: dt.date, zone: dt.tzinfo) -> tuple[str, str]:
    return day_start(day, zone), day_start(day + dt.timedelta(days=1), zone)


def percent(value: float | None) -> str:
    """85.0 -> '85 %'; 87.5 -> '87.5 %'; None -> '–'."""
    if value is None:
        return "–"
    return f"{value:.0f} %" if float(value).is_integer() else f"{value:.1f} %"
