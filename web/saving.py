"""Saving a configuration from the web: one whole TOML document sent to the engine (`config_import`:
the settings schema validates it, it is saved in one transaction and applied with a reload), guarded
against overwriting a newer one saved elsewhere since the page was opened."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import request

from firmware.control.client import ControlError, EngineNotRunning
from firmware.store import queries, reports
from web.box import box, db


@dataclass
class Outcome:
    ok: bool
    message: str = ""
    problems: list = field(default_factory=list)
    """(key, value, reason) of every problem the schema found."""
    error: str | None = None
    code: int = 200
    conflict: bool = False


def current() -> tuple[str, int | None]:
    """The stored configuration's text and id ('' and None before the engine's first start)."""
    conn = db()
    if conn is None:
        return "", None
    return queries.current_config(conn) or "", reports.current_config_id(conn)


def save(text: str, base_id: int | None, force: bool = False, what: str = "configuration") -> Outcome:
    """Send `text` to the engine unless another configuration was saved after `base_id`."""
    _, current_id = current()
    if not force and base_id != current_id:
        return Outcome(False, code=409, conflict=True, error=(
            f"The configuration was changed elsewhere since this page was opened, so your {what} was not "
            "saved. What you typed is kept below: save anyway to replace the newer one, or reload the page "
            "to start from it."))
    try:
        result = box().command("config_import", timeout=120, toml=text, source=f"web admin ({request.remote_addr})")
    except ControlError as exc:
        if exc.problems:
            n = len(exc.problems)
            return Outcome(False, problems=[tuple(p) for p in exc.problems], code=422,
                           error=f"Not saved: {n} problem{'s' * (n != 1)}. Nothing was changed.")
        return Outcome(False, code=422, error=f"Not saved, the engine refused it: {exc}")
    except EngineNotRunning:
        return Outcome(False, code=503, error=(
            "The engine is not running, so nothing was checked or saved (the engine keeps the "
            "configuration). What you typed is kept below: start the engine and save again."))
    return Outcome(True, message=f"Saved and applied: {result['message']}.")


def base_id_of_form() -> int | None:
    return request.form.get("base_id", type=int)
