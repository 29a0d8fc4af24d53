"""Read-only reports over the store for the web admin: the day's queue figures, call searches and the
configuration history. Every value reaches SQLite as a bound parameter; the only text put together
here is fixed clauses chosen by which filters are given.

Times in the store are UTC ISO-8601 strings of one format (`firmware.timeutil.iso`), so ranges are
compared as text; callers pass bounds made with `iso()`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sqlite_utils

SERVICE_LEVEL_S = 20.0
"""Default service-level threshold: a call counts as served in time when answered within this wait."""

LIST_FIELDS = ("id", "line", "caller_id", "caller_name", "dialled", "started_at", "queue", "operator",
               "wait_s", "talk_s", "disposition", "end_reason", "recording", "connected_at", "ended_at")
DISPOSITIONS = ("answered", "abandoned", "timeout", "ivr_hangup", "rejected", "failed")


@dataclass(frozen=True)
class CallFilter:
    """What the call list and the recordings list are narrowed by; empty fields do not filter."""

    start: str | None = None
    """Calls started at or after this UTC ISO time."""
    end: str | None = None
    """Calls started before this UTC ISO time."""
    caller: str = ""
    """Part of the caller's number or name."""
    operator: str = ""
    """The operator who took the call (exact name)."""
    disposition: str = ""
    """answered, abandoned, timeout, ivr_hangup, rejected or failed (exact)."""
    with_recording: bool = False
    """Only calls that still have a recording."""
    indexed: bool = True
    """Whether the store has the caller search index (migration m002); set by the queries below."""

    def where(self) -> tuple[str, list]:
        clauses, args = [], []
        if self.start:
            clauses.append("started_at >= ?")
            args.append(self.start)
        if self.end:
            clauses.append("started_at < ?")
            args.append(self.end)
        if self.caller and len(self.caller) >= 3 and self.indexed:
            # the trigram index finds substrings of 3 characters or more (case-insensitive, like LIKE)
            clauses.append("rowid in (select rowid from calls_search where calls_search match ?)")
            args.append('"' + self.caller.replace('"', '""') + '"')
        elif self.caller:
            pattern = "%" + _escape_like(self.caller) + "%"
            clauses.append("(caller_id like ? escape '\\' or caller_name like ? escape '\\')")
            args += [pattern, pattern]
        if self.operator:
            clauses.append("operator = ?")
            args.append(self.operator)
        if self.disposition:
            clauses.append("disposition = ?")
            args.append(self.disposition)
        if self.with_recording:
            clauses.append("recording is not null")
        return (" where " + " and ".join(clauses)) if clauses else "", args


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_calls(db: sqlite_utils.Database, flt: CallFilter, limit: int = 50, offset: int = 0) -> list[dict]:
    """Call records matching `flt`, newest first."""
    if not _has(db, "calls"):
        return []
    where, args = _indexed(db, flt).where()
    sql = (f"select {', '.join(LIST_FIELDS)} from calls{where} "
           "order by started_at desc, rowid desc limit ? offset ?")
    return [dict(r) for r in db.execute(sql, args + [limit, offset]).fetchall()]


def count_calls(db: sqlite_utils.Database, flt: CallFilter) -> int:
    if not _has(db, "calls"):
        return 0
    where, args = _indexed(db, flt).where()
    return db.execute(f"select count(*) from calls{where}", args).fetchone()[0]


def _indexed(db: sqlite_utils.Database, flt: CallFilter) -> CallFilter:
    if flt.caller and not _has(db, "calls_search"):
        return dataclasses.replace(flt, indexed=False)
    return flt


def operators_seen(db: sqlite_utils.Database) -> list[str]:
    """Every operator name that ever took a call (for filter choices)."""
    if not _has(db, "calls"):
        return []
    # one index step per name (calls(operator, started_at)), not a scan of every call
    rows = db.execute("""
        with recursive names(name) as (
            select min(operator) from calls where operator is not null
            union all
            select (select min(operator) from calls where operator > names.name) from names where name is not null)
        select name from names where name is not null""")
    return [r[0] for r in rows.fetchall()]


def figures(db: sqlite_utils.Database, start: str, end: str, threshold_s: float = SERVICE_LEVEL_S) -> dict:
    """Queue figures for calls started in [start, end).

    offered: calls that reached a queue (including those turned away at once because it was full or
    had no operator); answered: of those, connected to an operator; abandoned:
    callers who hung up while queued; timed_out: sent to the fall-back (maximum wait, queue full, no
    operator). service_level_pct: answered within `threshold_s` of waiting, over offered calls that
    have an outcome (answered, abandoned or timed out; callers still waiting are left out).
    asa_s: average wait of answered calls; aht_s: average talk plus wrap-up of answered calls;
    longest_wait_s: the longest wait of any offered call with an outcome.
    """
    empty = empty_figures(threshold_s)
    if not _has(db, "calls"):
        return empty
    cur = db.execute("""
        with c as (
            select *, (queue is not null or disposition = 'timeout') as offered,
                      (connected_at is not null) as answered
            from calls where started_at >= ? and started_at < ?)
        select count(*) as calls,
               sum(offered) as offered,
               sum(offered and answered) as answered,
               sum(offered and not answered and disposition = 'abandoned') as abandoned,
               sum(offered and not answered and disposition = 'timeout') as timed_out,
               sum(offered and answered and wait_s <= ?) as in_time,
               avg(case when offered and answered then wait_s end) as asa_s,
               avg(case when offered and answered and ended_at is not null then talk_s end) as talk_s,
               max(case when offered and (answered or ended_at is not null) then wait_s end) as longest_wait_s
        from c""", [start, end, threshold_s])
    out = {**empty, **dict(zip([d[0] for d in cur.description], cur.fetchone()))}
    for key in ("offered", "answered", "abandoned", "timed_out", "in_time"):
        out[key] = out[key] or 0
    decided = out["answered"] + out["abandoned"] + out["timed_out"]
    out["service_level_pct"] = round(100.0 * out["in_time"] / decided, 1) if decided else None
    out["wrapup_s"] = average_wrapup(db, start, end)
    if out["talk_s"] is not None:
        out["aht_s"] = out["talk_s"] + (out["wrapup_s"] or 0.0)
    return out


def empty_figures(threshold_s: float = SERVICE_LEVEL_S) -> dict:
    """The figures of a day without calls."""
    return {"calls": 0, "offered": 0, "answered": 0, "abandoned": 0, "timed_out": 0, "in_time": 0,
            "service_level_pct": None, "asa_s": None, "talk_s": None, "wrapup_s": None, "aht_s": None,
            "longest_wait_s": None, "threshold_s": threshold_s}


def average_wrapup(db: sqlite_utils.Database, start: str, end: str) -> float | None:
    """Average length of the operators' wrap-up periods that began in [start, end), from the operator
    log (a wrap-up lasts until the operator's next state change; one still running is left out)."""
    if not _has(db, "operator_log"):
        return None
    # only the period's wrap-ups, each with its operator's next entry (indexes (state, at), (operator, at));
    # avg() skips the running ones (no next entry yet)
    row = db.execute("""
        select avg((julianday(next_at) - julianday(at)) * 86400.0) from (
            select w.at, (select n.at from operator_log n where n.operator = w.operator and n.at >= w.at
                          and n.id > w.id order by n.at, n.id limit 1) as next_at
            from operator_log w where w.state = 'wrapup' and w.at >= ? and w.at < ?)""", [start, end]).fetchone()
    return row[0]


def config_history(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    """The most recent saved configurations (without their text), newest first."""
    if not _has(db, "config"):
        return []
    sql = "select id, saved_at, source from config order by id desc limit ?"
    return [dict(r) for r in db.execute(sql, [limit]).fetchall()]


def current_config_id(db: sqlite_utils.Database) -> int | None:
    if not _has(db, "config"):
        return None
    row = db.execute("select max(id) from config").fetchone()
    return row[0]


def _has(db: sqlite_utils.Database, table: str) -> bool:
    return db.execute("select 1 from sqlite_master where type='table' and name=?", [table]).fetchone() is not None


# --- reports over a period: by hour of the day, by day, by operator -------------------------------

def period_rows(db: sqlite_utils.Database, start: str, end: str) -> list[dict]:
    """The few columns the period reports need, for calls started in [start, end)."""
    if not _has(db, "calls"):
        return []
    cur = db.execute("""
        select started_at, (queue is not null or disposition = 'timeout') as offered,
               (connected_at is not null) as answered, disposition, wait_s, ended_at
        from calls where started_at >= ? and started_at < ?""", [start, end])
    return [dict(r) for r in cur.fetchall()]


def by_hour_and_day(rows: list[dict], zone, days: list, threshold_s: float = SERVICE_LEVEL_S) -> dict:
    """Calls per hour of the day (office time, over the whole period) and per day, with each day's
    service level and abandon rate. `days` are the local dates of the period, in order (days without
    calls are shown as such). Service level as in `figures`; abandon rate: abandoned over offered
    calls with an outcome."""
    import datetime as dt

    hours = [{"hour": h, "calls": 0, "answered": 0, "abandoned": 0} for h in range(24)]
    per_day = {d: {"day": d, "calls": 0, "offered": 0, "answered": 0, "abandoned": 0, "timed_out": 0, "in_time": 0}
               for d in days}
    for r in rows:
        local = dt.datetime.fromisoformat(r["started_at"]).astimezone(zone)
        outcome = _outcome(r)
        hour = hours[local.hour]
        hour["calls"] += 1
        hour["answered"] += outcome == "answered"
        hour["abandoned"] += outcome == "abandoned"
        day = per_day.get(local.date())
        if day is None:
            continue
        day["calls"] += 1
        if r["offered"]:
            day["offered"] += 1
            if outcome:
                day[{"answered": "answered", "abandoned": "abandoned", "timeout": "timed_out"}[outcome]] += 1
            if outcome == "answered" and (r["wait_s"] or 0) <= threshold_s:
                day["in_time"] += 1
    for day in per_day.values():
        decided = day["answered"] + day["abandoned"] + day["timed_out"]
        day["service_level_pct"] = round(100.0 * day["in_time"] / decided, 1) if decided else None
        day["abandon_pct"] = round(100.0 * day["abandoned"] / decided, 1) if decided else None
    return {"hours": hours, "days": list(per_day.values())}


def _outcome(row: dict) -> str | None:
    """answered, abandoned, timeout (an offered call's outcome) or None (still waiting, or not offered)."""
    if not row["offered"]:
        return None
    if row["answered"]:
        return "answered"
    if row["disposition"] in ("abandoned", "timeout"):
        return row["disposition"]
    return None


def per_operator(db: sqlite_utils.Database, start: str, end: str) -> list[dict]:
    """Per operator, for calls started in [start, end): calls answered, total and average talk time,
    average wait of the callers they answered, and rings they let go unanswered (queue events)."""
    if not _has(db, "calls"):
        return []
    answered = {r["operator"]: dict(r) for r in db.execute("""
        select operator, count(*) as answered, sum(talk_s) as talk_s, avg(talk_s) as avg_talk_s,
               avg(wait_s) as avg_wait_s
        from calls where started_at >= ? and started_at < ? and operator is not null and connected_at is not null
        group by operator""", [start, end]).fetchall()}
    missed = dict(db.execute("""
        select operator, count(*) from queue_events
        where at >= ? and at < ? and event = 'ringnoanswer' and operator is not null group by operator""",
                             [start, end]).fetchall())
    names = sorted(set(answered) | set(missed))
    empty = {"answered": 0, "talk_s": 0.0, "avg_talk_s": None, "avg_wait_s": None}
    return [{**empty, **answered.get(n, {}), "operator": n, "missed": missed.get(n, 0)} for n in names]
