"""Wall-clock helpers: the store keeps UTC ISO-8601 timestamps with milliseconds."""

from __future__ import annotations

import datetime as dt


def iso_now() -> str:
    return iso(dt.datetime.now(dt.timezone.utc))


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
