"""Update upload on the System page (Flask test client): a real bundle made from this source tree,
checked at once and installed by `firmware.update.install_bundle` into real venvs on the web's
background thread. The engine here is a stand-in (tests/e2e/test_update.py and
tests/e2e/test_run_supervisor.py restart real ones): ready, or never ready (rolled back). Broken
bundles are refused next to the field with nothing changed; CSRF and the size limit hold."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import pytest

from firmware import update
from tests.e2e.conftest import ROOT
from tests.web.conftest import Admin
from web import app as web_app, create_app


class StandInEngine:
    """firmware.update's Engine: counts restarts; ready or not as told."""

    def __init__(self, ready: bool):
        self.ready, self.restarts = ready, 0

    def restart(self) -> None:
        self.restarts += 1

    def wait_ready(self, timeout_s: float) -> bool:
        return self.ready if self.restarts == 1 else True  # the roll-back's restart is ready


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return update.build_bundle(tmp_path_factory.mktemp("bundle"), ROOT)


def make_admin(data_dir: Path, engine: StandInEngine, clock) -> tuple[Admin, update.Releases]:
    releases = update.Releases(data_dir, fallback_venv=Path(sys.prefix))
    app = create_app(data_dir, clock=clock, installer=lambda path, say: update.install_bundle(
        path, data_dir, engine, ready_timeout_s=5, say=say, releases=releases))
    app.config["TESTING"] = True
    return Admin(app.test_client(), app).login(), releases


def finish(admin: Admin) -> str:
    job = admin.app.extensions["switchboard-update"]
    job.thread.join(300)
    assert not job.running()
    return admin.get("/system/update").get_data(as_text=True)


def upload(admin: Admin, data: bytes, name: str, checksum: bytes | None = None, **kwargs):
    form = {"bundle": (io.BytesIO(data), name)}
    if checksum is not None:
        form["checksum"] = (io.BytesIO(checksum), name + ".sha256")
    return admin.post("/system/update", form, content_type="multipart/form-data", **kwargs)


def test_a_good_bundle_is_installed_in_the_background_with_its_progress_shown(data_dir, clock, bundle):
    engine = StandInEngine(ready=True)
    admin, releases = make_admin(data_dir, engine, clock)
    assert 'id="update-form"' in admin.get("/system").get_data(as_text=True)
    response = upload(admin, bundle.read_bytes(), bundle.name, Path(f"{bundle}.sha256").read_bytes())
    assert response.status_code == 302 and response.headers["Location"].endswith("/system/update")
    page = finish(admin)
    assert "Updated to 0.1.0; the engine is ready." in page
    assert "checking switchboard-0.1.0.bundle.tar" in page and "waiting up to 5 s for the engine" in page
    assert engine.restarts == 1
    current = releases.link("current")
    assert str(current).startswith("0.1.0-") and str(releases.link("previous")) == "factory"
    assert (releases.root / current / "venv" / "bin" / "switchboard").exists()
    assert not [p for p in (data_dir / "web" / "updates").iterdir() if p.name.startswith("upload-")], \
        "the uploaded file is deleted"
    assert "Last update:" in admin.get("/system").get_data(as_text=True)
    # Kept for after a restart of the web admin.
    again, _ = make_admin(data_dir, engine, clock)
    assert "Updated to 0.1.0" in again.get("/system/update").get_data(as_text=True)


def test_a_release_whose_engine_never_gets_ready_is_rolled_back_and_the_page_says_so(data_dir, clock, bundle):
    engine = StandInEngine(ready=False)
    admin, releases = make_admin(data_dir, engine, clock)
    assert upload(admin, bundle.read_bytes(), bundle.name).status_code == 302
    page = finish(admin)
    assert 'id="update-outcome"' in page and "Rolled back: 0.1.0 did not get ready within 5 s" in page
    assert engine.restarts == 2 and str(releases.link("current")) == "factory"
    assert not [p for p in releases.root.iterdir() if p.name.startswith("0.1.0-")]


def corrupt(bundle: Path) -> bytes:
    """A wheel whose bytes differ from the manifest's SHA-256 (the manifest itself intact)."""
    out = io.BytesIO()
    with tarfile.open(bundle) as src, tarfile.open(fileobj=out, mode="w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.endswith(".whl"):
                data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
            dst.addfile(member, io.BytesIO(data))
    return out.getvalue()


def test_broken_bundles_are_refused_next_to_the_field_and_nothing_changes(data_dir, clock, bundle):
    engine = StandInEngine(ready=True)
    admin, releases = make_admin(data_dir, engine, clock)
    good = bundle.read_bytes()
    cases = [
        (corrupt(bundle), None, "SHA-256 does not match the manifest (corrupt bundle)"),
        (good[:-5000], Path(f"{bundle}.sha256").read_bytes(), "SHA-256 does not match switchboard-0.1.0.bundle.tar.sha256"),
        (b"this is not a tar file at all" * 20, None, "is not a release bundle"),
        (good[:len(good) // 2], None, "is not a readable bundle"),
    ]
    for data, checksum, reason in cases:
        response = upload(admin, data, bundle.name, checksum)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, page
        error = page.split('id="err-bundle"')[1].split("</span>")[0]
        assert reason in error and "Nothing was changed." in error
    response = admin.post("/system/update", {}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a release bundle" in response.get_data(as_text=True)
    assert engine.restarts == 0 and not releases.root.exists()
    assert not list((data_dir / "web" / "updates").glob("upload-*"))
    assert "No update has been uploaded yet." in admin.get("/system/update").get_data(as_text=True)


def test_upload_needs_the_csrf_token_and_a_session_and_has_a_size_limit(data_dir, clock, bundle, monkeypatch):
    engine = StandInEngine(ready=True)
    admin, releases = make_admin(data_dir, engine, clock)
    form = {"bundle": (io.BytesIO(bundle.read_bytes()), bundle.name)}
    response = admin.client.post("/system/update", data=form, content_type="multipart/form-data")
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    stranger = admin.app.test_client()
    response = stranger.post("/system/update", data={"bundle": (io.BytesIO(b"x"), "a.tar")},
                             content_type="multipart/form-data")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    monkeypatch.setitem(web_app.UPLOAD_LIMITS, "system_update.upload", 1000)
    response = upload(admin, bundle.read_bytes(), bundle.name)
    assert response.status_code == 413
    assert engine.restarts == 0 and not releases.root.exists()
