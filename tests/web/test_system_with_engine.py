"""The system page and retention against a real engine: retention limits saved in the configuration
and applied (files deleted, each logged in the deletion log), the admin password changed, a backup
downloaded, a broken one refused with nothing changed, a good one restored through a restart, and a
restart from the web."""

from __future__ import annotations

import io
import os
import time
import tomllib
import zipfile

import pytest

from firmware.store import db as dbmod, queries
from tests.e2e.conftest import Engine, free_port
from tests.web.conftest import PASSWORD, Admin


@pytest.fixture
def engine(data_dir):
    engine = Engine(data_dir, free_port()).start()
    yield engine
    code = engine.stop()
    assert "Traceback" not in engine.log(), engine.log()[-3000:]
    assert code == 0, engine.log()[-3000:]


def text(response) -> str:
    return response.get_data(as_text=True)


def base_id(page: str) -> str:
    return page.split('name="base_id" value="')[1].split('"')[0]


def test_retention_by_age_through_the_configuration_and_its_deletion_log(engine, admin, data_dir):
    wav = data_dir / "recordings" / "c1.wav"
    ten_days_ago = time.time() - 10 * 86400
    os.utime(wav, (ten_days_ago, ten_days_ago))
    page = text(admin.get("/recordings"))
    assert "kept whatever their age" in page and "No recording has been deleted." in page
    response = admin.post("/config/recording", {"keep_days": "-1", "base_id": base_id(text(admin.get("/config/recording")))})
    assert response.status_code == 422 and 'id="err-keep_days">Input should be greater than or equal to 0' in text(response)
    response = admin.post("/config/recording", {"keep_days": "7", "max_total_mb": "", "disclosure_prompt": "disclosure",
                                                "base_id": base_id(text(admin.get("/config/recording")))},
                          follow_redirects=True)
    assert "Recording: Saved and applied" in text(response)
    stored = tomllib.loads(queries.current_config(dbmod.open_read(data_dir)))["recording"]
    assert stored == {"disclosure_prompt": "disclosure", "keep_days": 7, "min_free_mb": 50.0}  # the guard's, kept

    response = admin.post("/recordings/retention", follow_redirects=True)
    page = text(response)
    assert "Retention applied: 1 recording deleted" in page and not wav.exists()
    assert "older than 7 days deleted" in page
    log = page.split('id="deletion-log"')[1]
    assert "deleted the recording of call c1 (c1.wav, 16428 bytes) by web admin" in log and "older than 7 days" in log
    assert queries.call(dbmod.open_read(data_dir), "c1")["recording"] is None


def test_change_the_admin_password(engine, admin, app):
    response = admin.post("/system/password", {"old_password": "wrong one!", "new_password": "x" * 12,
                                               "new_password_again": "x" * 12})
    assert response.status_code == 400 and 'id="err-old_password">That is not the current password.' in text(response)
    response = admin.post("/system/password", {"old_password": PASSWORD, "new_password": "short",
                                               "new_password_again": "short"})
    assert 'id="err-new_password">The password needs at least 10 characters.' in text(response)
    other = Admin(app.test_client(), app).login()
    response = admin.post("/system/password", {"old_password": PASSWORD, "new_password": "a brand new password",
                                               "new_password_again": "a brand new password"}, follow_redirects=True)
    assert "The admin password is changed" in text(response)
    assert admin.get("/system").status_code == 200  # this session goes on
    assert other.get("/system").status_code == 302  # the other one ended
    assert app.extensions["switchboard"].files.check_password("a brand new password")


def test_backup_then_a_broken_restore_is_refused_and_a_good_one_is_put_in_place(engine, admin, data_dir):
    response = admin.get("/system/backup")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="switchboard-backup-')
    good = response.data
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        assert "switchboard.db" in z.namelist() and 'name = "desk"' in z.read("config.toml").decode()
    # A change after the backup: the queue's ring timeout.
    page = text(admin.get("/config/queues/desk/edit"))
    admin.post("/config/queues/desk/edit", {"name": "desk", "member": "st1", "ring_timeout_s": "11",
                                            "base_id": base_id(page)})
    changed = queries.current_config(dbmod.open_read(data_dir))
    assert "ring_timeout_s = 11" in changed

    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(broken, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, b"[sip]\nport = 0\n" if name == "config.toml" else zin.read(name))
    response = admin.post("/system/restore", {"backup": (io.BytesIO(broken.getvalue()), "bad.zip")},
                          content_type="multipart/form-data")
    page = text(response)
    assert response.status_code == 422 and "bad.zip was refused. Nothing was changed." in page
    assert "its configuration is refused: sip.port = 0" in page
    response = admin.post("/system/restore", {"backup": (io.BytesIO(b"PK not really"), "junk.zip")},
                          content_type="multipart/form-data")
    assert response.status_code == 422 and "not a ZIP file" in text(response)
    assert engine.proc.poll() is None and queries.current_config(dbmod.open_read(data_dir)) == changed
    before = engine.status()
    assert not list((data_dir / "restore").glob("upload-*"))

    response = admin.post("/system/restore", {"backup": (io.BytesIO(good), "good.zip")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "checked: backup checked and staged; the engine restarts" in text(response)
    engine.restarted(before["pid"])
    stored = queries.current_config(dbmod.open_read(data_dir))
    assert "ring_timeout_s = 11" not in stored and "ring_timeout_s = 3" in stored
    assert "restored the backup of" in engine.log()
    assert engine.status()["operators"][0]["name"] == "st1"
    assert any("restoring the backup" in r["message"] for r in queries.log_entries(dbmod.open_read(
        next((data_dir / "restore").glob("previous-*")))))


def test_restart_from_the_system_page(engine, admin, data_dir):
    before = engine.status()
    response = admin.post("/system/restart", follow_redirects=True)
    assert "Restarting: the engine is stopping" in text(response)
    after = engine.restarted(before["pid"])
    assert after["started_at"] > before["started_at"]
    assert any(r["message"].startswith("restart requested by web admin")
               for r in queries.log_entries(dbmod.open_read(data_dir)))
    assert f"running, pid {after['pid']}" in text(admin.get("/system"))
    engine.stop()
    response = admin.post("/system/restart", follow_redirects=True)
    assert "nothing to restart" in text(response)
