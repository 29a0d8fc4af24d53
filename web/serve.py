"""`switchboard web`: the web admin in its own process, served by waitress."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from web.app import create_app

log = logging.getLogger("switchboard.web")
THREADS = 6  # the dashboard polls every 2 s; audio seeking opens a few range requests at once


def serve(data_dir: Path, host: str = "127.0.0.1", port: int = 8080, under_run: bool = False) -> int:
    """under_run: started by `switchboard run`, whose supervisor (not systemd) restarts the engine after an update."""
    from waitress import create_server

    installer = None
    if under_run:
        from firmware import update
        from firmware.supervisor import SupervisedEngine
        engine = SupervisedEngine(Path(data_dir).resolve())
        installer = lambda path, say: update.install_bundle(path, data_dir, engine, say=say)  # noqa: E731
    app = create_app(data_dir, installer=installer)
    files = app.extensions["switchboard"].files
    try:
        server = create_server(app, host=host, port=port, threads=THREADS, ident="switchboard")
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s (is another web admin running? try --port)", host, port, exc)
        return 1
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{server.effective_port}/"
    files.write_url(url)
    log.info("web admin on %s (data directory %s)", url, app.extensions["switchboard"].data_dir)
    if not files.has_password():
        log.info("first run: open %ssetup with the setup code %s (also shown by `switchboard status`)",
                 url, files.setup_code())
    try:
        server.run()
    finally:
        server.close()
    return 0
