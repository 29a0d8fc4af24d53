"""Update upload (System page): a release bundle is checked at once, then installed by
`firmware.update.install_bundle` on a background thread (it restarts the engine and waits for it, a
minute or more); its progress and outcome are shown on /system/update and kept in
`data/web/updates/last.json`. A refused bundle changes nothing and says why next to the field."""

from __future__ import annotations

import json
import secrets
import shutil
import tarfile
import threading
from pathlib import Path
from typing import Callable

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from werkzeug.utils import secure_filename

from firmware import update
from firmware.timeutil import iso_now

bp = Blueprint("system_update", __name__)
MAX_BUNDLE_BYTES = 512 * 1024 * 1024  # the product wheel is ~1 MB; the aarch64 pjsua2 wheel a few dozen
REFRESH_S = 2

Installer = Callable[[Path, Callable[[str], None]], update.Outcome]
"""Installs a bundle file, reporting progress through the callable; returns the outcome."""


class UpdateJob:
    """One update at a time, on its own thread; its state is readable while it runs."""

    def __init__(self, folder: Path, install: Installer):
        self.folder, self.install = folder, install
        self.lock = threading.Lock()
        self.state: dict = self._load()
        self.thread: threading.Thread | None = None

    def _load(self) -> dict:
        try:
            state = json.loads((self.folder / "last.json").read_text())
        except (OSError, ValueError):
            return {}
        if state.get("running"):  # the web admin stopped during an update: its end is unknown here
            state.update(running=False, ok=False, step="interrupted",
                         message="the web admin restarted during this update; `switchboard status` shows the "
                                 "engine's version, and the box rolls an unfinished update back at boot")
        return state

    def snapshot(self) -> dict:
        with self.lock:
            return json.loads(json.dumps(self.state))

    def running(self) -> bool:
        with self.lock:
            return bool(self.state.get("running"))

    def start(self, bundle: Path, name: str, by: str) -> bool:
        with self.lock:
            if self.state.get("running"):
                return False
            self.state = {"running": True, "file": name, "by": by, "started_at": iso_now(), "messages": [],
                          "step": update.Step.VERIFY.value, "ok": False, "message": ""}
            self._save()
        self.thread = threading.Thread(target=self._run, args=(bundle,), name="web-update", daemon=True)
        self.thread.start()
        return True

    def _say(self, message: str) -> None:
        with self.lock:
            self.state["messages"].append({"at": iso_now(), "message": message})
            self._save()

    def _run(self, bundle: Path) -> None:
        try:
            outcome = self.install(bundle, self._say)
            result = {"step": outcome.step.value, "ok": outcome.ok, "message": outcome.message,
                      "version": outcome.version}
        except Exception as exc:  # an installer bug must still end the job visibly
            result = {"step": update.Step.FAILED.value, "ok": False, "message": f"the update failed: {exc}"}
        finally:
            shutil.rmtree(bundle.parent, ignore_errors=True)
        with self.lock:
            self.state.update(result, running=False, ended_at=iso_now())
            self._save()

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / "last.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=1))
        tmp.replace(self.folder / "last.json")


def job() -> UpdateJob:
    return current_app.extensions["switchboard-update"]


@bp.route("/system/update", methods=["GET"])
def status():
    state = job().snapshot()
    response = make_response(render_template("update.html", job=state))
    if state.get("running"):
        response.headers["Refresh"] = str(REFRESH_S)  # no script needed (CSP allows none inline)
    return response


@bp.route("/system/update", methods=["POST"])
def upload():
    """Check the uploaded bundle now (refused with the reason, nothing kept), then install it in the
    background."""
    from web.system import index
    upload, checksum = request.files.get("bundle"), request.files.get("checksum")
    if upload is None or not upload.filename:
        return index(update_error="Choose a release bundle (switchboard-VERSION.bundle.tar).", code=400)
    if job().running():
        return index(update_error="An update is already in progress: wait for it to end.", code=409)
    name = secure_filename(upload.filename) or "upload.bundle.tar"
    folder = job().folder / f"upload-{secrets.token_hex(6)}"
    folder.mkdir(parents=True)
    path = folder / name
    try:
        upload.save(path)
        if checksum is not None and checksum.filename:
            checksum.save(folder / f"{name}.sha256")  # verify() checks the whole file against it
        if not tarfile.is_tarfile(path):  # say it plainly rather than with tarfile's four decoders
            raise update.BundleError(f"{upload.filename} is not a release bundle (a .bundle.tar from `make bundle`)")
        manifest = update.verify(path)
    except (update.BundleError, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return index(update_error=f"Not installed: {exc}. Nothing was changed.", code=422)
    if not job().start(path, upload.filename, f"web admin ({request.remote_addr})"):
        shutil.rmtree(folder, ignore_errors=True)
        return index(update_error="An update is already in progress: wait for it to end.", code=409)
    flash(f"{upload.filename} checked (Switchboard {manifest.version}): installing.", "ok")
    return redirect(url_for("system_update.status"))
