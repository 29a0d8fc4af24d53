"""Web admin fixtures: a data directory filled by the store's own Writer (pure page tests), the Flask
app and test client on it, and an `Admin` helper that logs in and sends forms with their CSRF token."""

from __future__ import annotations

import datetime as dt
import re
import struct
from pathlib import Path

import pytest

from firmware.store.writer import Writer
from firmware.timeutil import iso
from tests.e2e.boxes import box
from web import create_app

PASSWORD = "correct horse battery"
TODAY = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
WAV_DATA = bytes(range(256)) * 64  # 16 KiB of known bytes after the 44-byte header


class FakeClock:
    """Monotonic seconds the test moves by hand (the log-in lock-out's clock)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def at(hours: float, day: int = 0) -> str:
    """A store timestamp `hours` after today's midnight (UTC), `day` days from today."""
    return iso(TODAY + dt.timedelta(days=day, hours=hours))


def wav_bytes(data: bytes = WAV_DATA) -> bytes:
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(data)) + data


def call_row(call_id: str, hours: float, day: int = 0, **fields) -> dict:
    return {"id": call_id, "line": "gw", "caller_id": fields.pop("caller_id", "5550100"), "caller_name": "",
            "dialled": "100", "source_ip": "127.0.0.1", "started_at": at(hours, day), **fields}


def fill_store(data_dir: Path) -> None:
    """Calls of today and yesterday with known figures, their queue events, operator states, log rows,
    a configuration and one recording file."""
    recordings = data_dir / "recordings"
    recordings.mkdir(parents=True, exist_ok=True)
    rec = recordings / "c1.wav"
    rec.write_bytes(wav_bytes())
    answered = dict(queue="desk", disposition="answered")
    rows = [
        call_row("c1", 1, caller_id="5551234", operator="st1", queued_at=at(1.001), connected_at=at(1.003),
                 ended_at=at(1.02), wait_s=5.0, talk_s=60.0, recording=str(rec), path="menu:main > queue:desk",
                 end_reason="caller hung up", **answered),
        call_row("c2", 2, caller_id="5559876", operator="st2", queued_at=at(2.001), connected_at=at(2.01),
                 ended_at=at(2.05), wait_s=30.0, talk_s=120.0, end_reason="operator hung up", **answered),
        call_row("c3", 3, queue="desk", queued_at=at(3.001), ended_at=at(3.02), wait_s=40.0, talk_s=0.0,
                 disposition="abandoned", end_reason="caller hung up in queue"),
        call_row("c4", 4, queue="desk", queued_at=at(4.001), ended_at=at(4.1), wait_s=300.0, talk_s=0.0,
                 disposition="timeout", end_reason="maximum wait"),
        call_row("c5", 5, ended_at=at(5.01), talk_s=0.0, disposition="ivr_hangup", end_reason="menu hung up"),
        call_row("c6", 6, line=None, ended_at=at(6), disposition="rejected", end_reason="unknown source address"),
        call_row("c7", 7, ended_at=at(7.01), talk_s=0.0, disposition="timeout", end_reason="queue full"),
        call_row("y1", 10, day=-1, caller_id="=HYPERLINK(1)", operator="st1", connected_at=at(10.01, -1),
                 ended_at=at(10.1, -1), wait_s=2.0, talk_s=30.0, **answered),
    ]
    writer = Writer(data_dir)
    try:
        writer.save_config(box(), "test")
        for row in rows:
            writer.call_started(row)
        for event, hours, op in (("enter", 1.001, None), ("ring", 1.002, "st1"), ("connect", 1.003, "st1"),
                                 ("complete", 1.02, "st1")):
            writer.submit(lambda db, e=event, h=hours, o=op: db["queue_events"].insert(
                {"at": at(h), "call_id": "c1", "queue": "desk", "event": e, "operator": o, "detail": ""}))
        for op, start, seconds in (("st1", 1.02, 10), ("st2", 2.05, 6)):
            for state, moment in (("wrapup", at(start)), ("ready", iso(TODAY + dt.timedelta(hours=start, seconds=seconds)))):
                writer.submit(lambda db, o=op, s=state, m=moment: db["operator_log"].insert(
                    {"at": m, "operator": o, "state": s, "reason": "", "call_id": None}))
        writer.submit(lambda db: db["log"].insert({"at": at(6), "level": "warning", "source": "sip",
                                                   "message": "INVITE from 10.9.9.9 refused with 403"}))
        writer.flush()
    finally:
        writer.close()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    fill_store(path)
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(data_dir, clock):
    app = create_app(data_dir, clock=clock)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


class Admin:
    """A logged-in browser, as far as the test client goes: forms are sent with the page's token."""

    def __init__(self, client, app):
        self.client, self.app = client, app

    def login(self) -> "Admin":
        files = self.app.extensions["switchboard"].files
        if not files.has_password():
            files.set_password(PASSWORD)
        token = csrf_of(self.client.get("/login").get_data(as_text=True))
        response = self.client.post("/login", data={"password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return self

    def token(self) -> str:
        with self.client.session_transaction() as session:
            return session["csrf_token"]

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token()}, **kwargs)


@pytest.fixture
def admin(client, app) -> Admin:
    return Admin(client, app).login()
