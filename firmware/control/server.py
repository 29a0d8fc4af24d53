"""The engine's side of the control socket. Each request is one JSON line, each answer one JSON line:
{"ok": true, "result": ...} or {"ok": false, "error": "...", "problems": [[key, value, reason], ...]}.

Connection threads never touch pjsua2: they validate, then post a command to the engine loop and wait.
"""

from __future__ import annotations

import json
import logging
import os
import socketserver
import threading
from pathlib import Path
from typing import Callable

from firmware import events as ev
from firmware import prompts, settings as settings_mod
from firmware.control import SOCKET_NAME, callers
from firmware.store import db as dbmod, queries

log = logging.getLogger(__name__)
REPLY_TIMEOUT_S = 10


class ControlServer:
    def __init__(self, data_dir: Path, post: Callable, writer, info: dict, simulation=None, panel=None):
        self.data_dir, self.post, self.writer, self.info = Path(data_dir), post, writer, info
        self.simulation = simulation  # the far ends of simulated hardware (`switchboard sim ...`)
        self.panel = panel
        self.path = self.data_dir / SOCKET_NAME
        self._server = None
        self._lock = threading.Lock()  # one configuration change at a time
        self.handlers = {
            "ping": lambda req: "pong",
            "status": lambda req: {**self.info, **self._ask(ev.GetStatus())},
            "operator": lambda req: self._ask(ev.OperatorAction(req["name"], req["action"], req.get("reason", ""))),
            "line": lambda req: self._ask(ev.GetLine(req["name"])),
            "press": self._press,
            "sim_line": self._sim_line,
            "panel_test": self._panel_test,
            "hours": lambda req: self._ask(ev.SetHoursOverride(req["mode"])),
            "reload": self._reload,
            "config_import": self._config_import,
            "watchdog_test": self._watchdog_test,
            "delete_recording": self._delete_recording,
            "worklist_done": lambda req: callers.worklist_done(self, req),
            "message": lambda req: callers.message(self, req),
        }

    def start(self) -> None:
        if self.path.exists():
            self.path.unlink()  # left by an engine that did not stop cleanly
        handler = self._make_handler()
        self._server = socketserver.ThreadingUnixStreamServer(str(self.path), handler)
        self._server.daemon_threads = True
        os.chmod(self.path, 0o660)
        threading.Thread(target=self._server.serve_forever, name="control", daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self.path.unlink(missing_ok=True)

    def _ask(self, command):
        return self.post(command).result(REPLY_TIMEOUT_S)

    def handle(self, request: dict) -> dict:
        handler = self.handlers.get(request.get("cmd"))
        if handler is None:
            return {"ok": False, "error": f"unknown command {request.get('cmd')!r}; known: {', '.join(self.handlers)}"}
        try:
            return {"ok": True, "result": handler(request)}
        except settings_mod.SettingsError as exc:
            return {"ok": False, "error": "configuration refused", "problems": exc.problems}
        except (KeyError, ValueError, prompts.PromptError) as exc:
            return {"ok": False, "error": str(exc).strip('"')}
        except Exception as exc:
            log.exception("control command %s failed", request.get("cmd"))
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}

    def _simulated(self):
        if self.simulation is None:
            raise ValueError("this is real hardware: `switchboard sim` commands work only in simulation")
        return self.simulation

    def _press(self, req: dict) -> dict:
        return {"message": self._simulated().press(req["station"], req["button"], bool(req.get("long")))}

    def _sim_line(self, req: dict) -> str:
        return self._simulated().line(req["line"], req["action"], str(req.get("value", "")),
                                      **req.get("options", {}))

    def _panel_test(self, req: dict) -> str:
        if self.panel is None:
            raise ValueError("this box has no operator panel configured (panel.pins)")
        seconds = float(req.get("seconds", 10))
        if not 0 < seconds <= 120:
            raise ValueError("seconds must be between 0 and 120")
        self.panel.blink_all(seconds)
        return f"every panel LED blinks for {seconds:g} s, then shows its state again"

    def _watchdog_test(self, req: dict) -> str:
        seconds = float(req.get("seconds", 30))
        if not 0 < seconds <= 120:
            raise ValueError("seconds must be between 0 and 120")
        self.post(ev.HoldLoop(seconds))  # not awaited: the loop is about to stop answering
        return f"the engine loop is held for {seconds:g} s; under systemd the watchdog restarts the engine"

    # Configuration changes: validate and make prompts here (off the engine loop), save, then apply.
    def _config_import(self, req: dict) -> dict:
        with self._lock:
            new = settings_mod.from_toml(req["toml"])
            prompts.render_all(new, self.data_dir)
            self.writer.save_config(req["toml"], req.get("source", "import"))
            return self._ask(ev.Reload(new))

    def _reload(self, req: dict) -> dict:
        with self._lock:
            db = dbmod.open_read(self.data_dir)
            try:
                text = queries.current_config(db)
            finally:
                db.conn.close()
            new = settings_mod.from_toml(text) if text else settings_mod.Settings()
            prompts.render_all(new, self.data_dir)
            return self._ask(ev.Reload(new))

    def _delete_recording(self, req: dict) -> dict:
        """Delete one call's recording (never one still being written), log it and clear the record's
        link to it. Only files inside <data_dir>/recordings are ever touched."""
        call_id = req["call_id"]
        db = dbmod.open_read(self.data_dir)
        try:
            row = queries.call(db, call_id)
        finally:
            db.conn.close()
        if row is None:
            raise KeyError(f"no call {call_id!r}")
        if not row.get("recording"):
            raise ValueError(f"call {call_id} has no recording")
        if any(c["id"] == call_id for c in self._ask(ev.GetStatus())["calls"]):
            raise ValueError(f"call {call_id} is in progress; its recording can be deleted after it ends")
        folder = (self.data_dir / "recordings").resolve()
        path = Path(row["recording"]).resolve()
        if not path.is_relative_to(folder) or path == folder:
            raise ValueError(f"refused: {row['recording']} is not inside {folder}")
        size = path.stat().st_size if path.is_file() else None
        path.unlink(missing_ok=True)
        by = f" by {req['by']}" if req.get("by") else ""
        what = f"{size} bytes" if size is not None else "file was already missing"
        self.writer.log("info", "recordings", f"deleted the recording of call {call_id} ({path.name}, {what}){by}")
        self.writer.call_updated(call_id, recording=None)
        self.writer.flush()
        return {"message": f"recording of call {call_id} deleted", "deleted": size is not None}

    def _make_handler(self):
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                for line in self.rfile:
                    try:
                        request = json.loads(line)
                        if not isinstance(request, dict):
                            raise ValueError("a request is a JSON object")
                        answer = server.handle(request)
                    except ValueError as exc:
                        answer = {"ok": False, "error": f"bad request: {exc}"}
                    self.wfile.write((json.dumps(answer, default=str) + "\n").encode())
                    self.wfile.flush()

        return Handler
