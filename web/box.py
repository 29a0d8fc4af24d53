"""What the web admin knows about its box: the data directory, its own files, the way to the engine
(the control socket) and a read-only view of the store. One `Box` per app, built by `create_app`."""

from __future__ import annotations

import datetime as dt
import sqlite3
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils
from flask import current_app, g

from firmware.control.client import ControlError, EngineNotRunning, request as control_request
from firmware.store import db as dbmod, queries, reports
from web.files import WebFiles
from web.security import LoginLimiter


@dataclass
class Box:
    data_dir: Path
    files: WebFiles
    limiter: LoginLimiter
    service_level_s: float
    poll_ms: int
    zones: dict = field(default_factory=dict)
    """Saved configuration id -> its office time zone (parsing the TOML on every page costs)."""

    def command(self, cmd: str, timeout: float = 15, **args):
        """Send a command to the engine; raises EngineNotRunning or ControlError."""
        return control_request(self.data_dir, cmd, timeout=timeout, **args)

    def status(self) -> tuple[dict | None, str | None]:
        """The engine's live status, or None and why not."""
        try:
            return self.command("status", timeout=5), None
        except EngineNotRunning:
            return None, "The engine is not running: no calls can be taken. Start it with `switchboard engine`."
        except (ControlError, OSError) as exc:
            return None, f"The engine did not answer: {exc}"

    @property
    def recordings_folder(self) -> Path:
        return self.data_dir / "recordings"


def box() -> Box:
    return current_app.extensions["switchboard"]


def db() -> sqlite_utils.Database | None:
    """A read-only connection for this request (None when the engine never created the store)."""
    if "db" not in g:
        try:
            g.db = dbmod.open_read(box().data_dir)
        except (FileNotFoundError, sqlite3.OperationalError):
            g.db = None
    return g.db


def close_db(_exc=None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.conn.close()


def office_zone() -> dt.tzinfo:
    """The office's time zone (hours.timezone of the stored configuration); UTC if there is none."""
    if "zone" not in g:
        g.zone = dt.timezone.utc
        conn = db()
        config_id = reports.current_config_id(conn) if conn is not None else None
        zones = box().zones
        if config_id is not None and config_id in zones:
            g.zone = zones[config_id]
            return g.zone
        text = queries.current_config(conn) if conn is not None else None
        if text:
            try:
                g.zone = ZoneInfo(tomllib.loads(text).get("hours", {}).get("timezone", "UTC"))
            except (tomllib.TOMLDecodeError, ZoneInfoNotFoundError, ValueError, AttributeError):
                pass
        if config_id is not None:
            zones[config_id] = g.zone
    return g.zone
