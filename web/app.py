"""The web admin's app factory: one Flask app per data directory, built from its parts here."""

from __future__ import annotations

import datetime as dt
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

from flask import Flask, request

from firmware.store import reports
from web import (auth, callers, calls, config_forms, configuration, dashboard, recordings, reports_page, system, timefmt,
                 updates, edge_admin)
from web.box import Box, close_db, office_zone
from web.files import WebFiles
from web.security import LoginLimiter, init_app as init_security

MAX_FORM_BYTES = 2 * 1024 * 1024  # a configuration is a few kilobytes
UPLOAD_LIMITS = {"forms.edit": 24 * 1024 * 1024, "system.restore": 2 * 1024**3,
                 "system_update.upload": updates.MAX_BUNDLE_BYTES}
"""The pages that take files (a prompt recording, a backup) allow more; set before anything reads the form."""


def create_app(data_dir: Path | str, *, service_level_s: float = reports.SERVICE_LEVEL_S, poll_ms: int = 2000,
               clock: Callable[[], float] = time.monotonic, installer: updates.Installer | None = None) -> Flask:
    """The web admin of the box whose data directory is `data_dir`.

    service_level_s: the dashboard's service-level threshold; poll_ms: how often the dashboard asks
    for the live status; clock: monotonic seconds for the log-in lock-out (tests pass their own);
    installer: how an uploaded release bundle is installed (default: `firmware.update.install_bundle`,
    the engine under systemd).
    """
    data_dir = Path(data_dir).resolve()
    files = WebFiles(data_dir / "web")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=files.secret_key(),
        SESSION_COOKIE_NAME="switchboard_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        VERSION=_version(),
    )
    app.extensions["switchboard"] = Box(data_dir, files, LoginLimiter(clock), service_level_s, poll_ms)
    if not files.has_password():
        files.setup_code()  # made now, so `switchboard status` can show it before anyone visits
    if installer is None:
        from firmware import update
        installer = lambda path, say: update.install_bundle(path, data_dir, say=say)  # noqa: E731
    app.extensions["switchboard-update"] = updates.UpdateJob(data_dir / "web" / "updates", installer)
    app.before_request(_upload_limit)  # registered first: the CSRF check reads the form
    init_security(app)
    app.teardown_appcontext(close_db)
    for module in (auth, dashboard, calls, callers, recordings, reports_page, config_forms, configuration, system, updates, edge_admin):
        app.register_blueprint(module.bp)
    app.register_blueprint(edge_admin.admin_bp)
    app.add_template_filter(lambda text, seconds=True: timefmt.local(text, office_zone(), seconds), "local")
    app.add_template_filter(timefmt.duration, "duration")
    app.add_template_filter(timefmt.percent, "percent")
    app.add_template_global(app.config["VERSION"], "version")
    return app


def _upload_limit() -> None:
    if request.endpoint in UPLOAD_LIMITS:
        request.max_content_length = UPLOAD_LIMITS[request.endpoint]


def _version() -> str:
    try:
        return metadata.version("switchboard")
    except metadata.PackageNotFoundError:
        return "unknown"
