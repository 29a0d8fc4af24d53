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
from firmware.control import SOCKET_NAME, callers, technician
from firmware.store import db as dbmod, queries, recording_files

log = logging.getLogger(__name__)
REPLY_TIMEOUT_S = 10


class ControlServer:
    def __init__(self, data_dir: Path, post: Callable, writer, info: dict, simulation=None, panel=None,
                 edge=None, retention=None, restart: Callable[[], None] | None = None, buttons=None):
        self.data_dir, self.post, self.writer, self.info = Path(data_dir), post, writer, info
        self.edge = edge  # the SIP edge (firmware/edge), or None when the engine faces the network itself
        self.retention = retention  # firmware.store.retention.Retention: applies the recordings policy
        self.restart = restart  # stops the engine with the exit code that asks systemd to start it again
        self.simulation = simulation  # the far ends of simulated hardware (`switchboard sim ...`)
        self.panel = panel
        self.buttons = buttons  # firmware.panels.ButtonRouter: the panel test's live presses
        self.path = self.data_dir / SOCKET_NAME
        self._server = None
        self._lock = threading.Lock()  # one configuration change at a time
        self.handlers = {
            "ping": lambda req: "pong",
            "status": lambda req: {**self.info, **self._ask(ev.GetStatus()), **self._edge_status()},
            "edge_unban": self._edge_unban,
            "operator": lambda req: self._ask(ev.OperatorAction(req["name"], req["action"], req.get("reason", ""))),
            "line": lambda req: self._ask(ev.GetLine(req["name"])),
            "transfer": lambda req: self._ask(ev.Transfer(req["name"], req["target"], req.get("by", "command"))),
            "stream_stats": lambda req: self._ask(ev.GetStreamStats()),
            "press": self._press,
            "sim_line": self._sim_line,
            "sim_headset": lambda req: self._simulated().headset(req["station"], req["action"]),
            "panel_test": self._panel_test,
            "hours": lambda req: self._ask(ev.SetHoursOverride(req["mode"])),
            "reload": self._reload,
            "config_import": self._config_import,
            "watchdog_test": self._watchdog_test,
            "delete_recording": self._delete_recording,
            "worklist_done": lambda req: callers.worklist_done(self, req),
            "message": lambda req: callers.message(self, req),
            "prompt_files": self._prompt_files,
            "retention_run": self._retention_run,
            "restart": self._restart,
            "restore": self._restore,
            "line_test": lambda req: technician.line_test(self, req),
            "headset_test": lambda req: technician.headset_test(self, req),
            "panel_presses": lambda req: technician.panel_presses(self, req),
            "headset_level": lambda req: technician.headset_level(self, req),
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
        if self.buttons is not None:
            self.buttons.watch(seconds)
            return (f"every panel LED blinks for {seconds:g} s, then shows its state again; press each"
                    " button: presses are shown here and do nothing else until the test ends")
        return f"every panel LED blinks for {seconds:g} s, then shows its state again"

    def _watchdog_test(self, req: dict) -> str:
        seconds = float(req.get("seconds", 30))
        if not 0 < seconds <= 120:
            raise ValueError("seconds must be between 0 and 120")
        self.post(ev.HoldLoop(seconds))  # not awaited: the loop is about to stop answering
        return f"the engine loop is held for {seconds:g} s; under systemd the watchdog restarts the engine"

    def _edge_status(self) -> dict:
        return {"edge": self.edge.status()} if self.edge is not None else {}

    def _edge_unban(self, req: dict) -> str:
        if self.edge is None:
            raise ValueError("this box has no SIP edge ([edge] in the configuration)")
        was = self.edge.unban(req["address"])
        self.writer.log("info", "edge", f"ban of {req['address']} lifted" if was else f"{req['address']} was not banned")
        return f"{req['address']}: ban lifted" if was else f"{req['address']} was not banned"

    def _apply_edge(self, new, answer):
        """The edge's share of a new configuration (credentials at once, the rest at its restart)."""
        if isinstance(answer, dict) and (self.edge is None) != (new.edge is None):
            answer = {**answer, "message": answer.get("message", "") + "; the SIP edge is switched "
                      f"{'on' if new.edge else 'off'} at the next restart"}
        elif self.edge is not None and new.edge is not None and isinstance(answer, dict):
            notes = self.edge.apply(new)
            if notes and "message" in answer:
                answer = {**answer, "message": answer["message"] + "; " + "; ".join(notes)}
        return answer

    # Configuration changes: validate and make prompts here (off the engine loop), save, then apply.
    def _config_import(self, req: dict) -> dict:
        with self._lock:
            new = settings_mod.from_toml(req["toml"])
            prompts.render_all(new, self.data_dir)
            self.writer.save_config(req["toml"], req.get("source", "import"))
            return self._apply_edge(new, self._ask(ev.Reload(new)))

    def _reload(self, req: dict) -> dict:
        with self._lock:
            db = dbmod.open_read(self.data_dir)
            try:
                text = queries.current_config(db)
            finally:
                db.conn.close()
            new = settings_mod.from_toml(text) if text else settings_mod.Settings()
            prompts.render_all(new, self.data_dir)
            return self._apply_edge(new, self._ask(ev.Reload(new)))

    def _restart(self, req: dict) -> dict:
        if self.restart is None:
            raise ValueError("this engine cannot be restarted from here")
        by = f" by {req['by']}" if req.get("by") else ""
        self.writer.log("info", "engine", f"restart requested{by}")
        self.writer.flush()
        self.restart()  # the loop stops after this answer; calls in progress are hung up cleanly
        return {"message": "the engine is stopping; systemd (or `switchboard run`) starts it again in a few seconds"}

    def _restore(self, req: dict) -> dict:
        """Check an uploaded backup completely, stage it, and restart: the swap happens at the next start,
        before the database is opened. A refused backup changes nothing."""
        from firmware.store import backup

        path = Path(req["path"]).resolve()
        if not path.is_relative_to(self.data_dir.resolve()):
            raise ValueError(f"refused: {path} is not inside the data directory")
        with self._lock:
            try:
                manifest = backup.stage(path, self.data_dir)
            except backup.BackupError as exc:
                return {"restored": False, "problems": exc.problems}
            by = f" by {req['by']}" if req.get("by") else ""
            self.writer.log("warning", "engine", f"restoring the backup of {manifest['created_at']} "
                                                 f"(Switchboard {manifest['app_version']}){by}; restarting")
            self.writer.flush()
        if self.restart is None:
            raise ValueError("staged, but this engine cannot restart itself: restart it to finish the restore")
        self.restart()
        return {"restored": True, "manifest": manifest,
                "message": "backup checked and staged; the engine restarts to put it in place"}

    def _retention_run(self, req: dict) -> dict:
        if self.retention is None:
            raise ValueError("this engine applies no recording retention")
        return self.retention.run(by=req.get("by") or "retention")

    def _prompt_files(self, req: dict) -> dict:
        """Prompt name -> the WAV made from it, for the stored configuration (the web admin plays them)."""
        db = dbmod.open_read(self.data_dir)
        try:
            text = queries.current_config(db)
        finally:
            db.conn.close()
        stored = settings_mod.from_toml(text) if text else settings_mod.Settings()
        return prompts.cached(stored, self.data_dir)

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
        path = recording_files.current(path) or path  # the WAV, or the WebM the encoder made of it
        size = recording_files.delete(path)  # every file of the recording
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
