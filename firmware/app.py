"""The composition root: builds the engine from the stored configuration, with real or simulated parts.

This is the only place that knows whether the box is simulated; everything below receives its parts.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from drivers.modem import Modem
from firmware import panels, prompts, settings as settings_mod
from firmware.events import DeviceEvent
from firmware.simulation import Simulation
from firmware.notify import Notifier
from firmware.control.server import ControlServer
from firmware.engine.core import Engine
from firmware.engine.ports import DialFailed
from firmware.store import db as dbmod, queries, recordings
from firmware.store.writer import Writer
from firmware.telephony.loop import Loop
from firmware.timeutil import iso, iso_now

log = logging.getLogger("switchboard")


@dataclass(frozen=True)
class Options:
    data_dir: Path
    sim: bool
    sip_port: int | None = None


def load_settings(data_dir: Path, writer: Writer, sim: bool) -> settings_mod.Settings:
    text = queries.current_config(dbmod.open_read(data_dir))
    if text is None:
        first = settings_mod.demo() if sim else settings_mod.Settings()
        writer.save_config(settings_mod.to_toml(first), "demo" if sim else "empty")
        log.info("empty data directory: starting from the %s configuration", "demo" if sim else "empty")
        return first
    return settings_mod.from_toml(text)


def close_interrupted(row: dict) -> dict:
    """A call record left open by a stopped engine gets an end and a disposition."""
    ended = iso_now()
    talk = 0.0
    if row.get("recording") and Path(row["recording"]).exists():
        path = Path(row["recording"])
        ended = iso(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc))
        talk = recordings.duration_s(path)
    if row.get("connected_at"):
        return {"ended_at": ended, "disposition": "answered", "talk_s": round(talk, 3),
                "end_reason": "engine stopped during the call"}
    return {"ended_at": ended, "disposition": "failed", "end_reason": "engine stopped before the call was answered"}


class NoHeadsetDriver:
    """Stations on real hardware need the headset driver (drivers/audio); until one is configured a
    station cannot be rung and the hunt group passes it over."""

    def __call__(self, station: str, leg: str, voice_file: str | None):
        raise DialFailed(f"station {station} has no headset audio device")


def run(options: Options) -> int:
    from firmware.telephony.modem_lines import ModemLines
    from firmware.telephony.modems import ModemLine, modem_settings
    from firmware.telephony.sip import PjsuaTelephony, StartError
    from firmware.telephony.stations import SimulatedStation

    data_dir = options.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    writer = Writer(data_dir)
    try:
        settings = load_settings(data_dir, writer, options.sim)
    except settings_mod.SettingsError as exc:
        log.error("the stored configuration is invalid; fix it with `switchboard config import`:\n%s", exc)
        writer.close()
        return 2
    for path in recordings.repair_all(data_dir):
        writer.log("warning", "recordings", f"repaired the header of {path.name} (engine stopped during the call)")
    closed = writer.close_interrupted_calls(close_interrupted)
    if closed:
        log.warning("closed %d call records left open by a stopped engine", closed)
    try:
        prompts.render_all(settings, data_dir)
    except prompts.PromptError as exc:
        log.error("some prompts could not be made: %s", exc)

    loop = Loop()
    if options.sim:
        def stations(station, leg, voice):
            return SimulatedStation(station, leg, voice, data_dir / "stations")
    else:
        stations = NoHeadsetDriver()
    tel = PjsuaTelephony(loop.emit, stations, lambda s: prompts.cached(s, data_dir))
    port = options.sip_port or settings.sip.port
    try:
        tel.start(settings, port)
    except StartError as exc:
        log.error("%s", exc)
        tel.shutdown()
        writer.close()
        return 1
    reader = dbmod.open_read(data_dir)
    override = queries.state(reader, "hours_override", "auto")
    pending_callbacks, unheard = queries.pending_callbacks(reader), queries.unheard_messages(reader)
    reader.conn.close()
    panel, pin_map = panels.build(settings, options.sim, loop.post)
    simulation = Simulation(panel, pin_map, data_dir) if options.sim else None

    def make_modem_line(line) -> ModemLine:
        device = simulation.modem(line.name).path if simulation else line.device
        return ModemLine(line.name, Modem(
            device, lambda event, name=line.name: loop.emit(DeviceEvent(f"modem:{name}", event)),
            modem_settings(line)))

    tel.modem_registry = ModemLines(tel.modem_lines, make_modem_line, tel.add_modem_line)
    tel.modem_registry.reconcile(settings.lines)  # and again at each reload (tel.configure)
    engine = Engine(settings, tel, writer, loop, data_dir, clock=loop.clock,
                    wall=lambda: dt.datetime.now(dt.timezone.utc), hours_override=override,
                    indicators=panels.PanelIndicators(panel) if panel else None,
                    pending_callbacks=pending_callbacks, unheard_messages=unheard)
    info = {"sip": {"address": settings.sip.address, "port": port}, "pid": os.getpid(),
            "started_at": iso_now(), "simulated": options.sim, "data_dir": str(data_dir)}
    control = ControlServer(data_dir, loop.post, writer, info, simulation, panel)
    control.start()
    notifier = Notifier()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: loop.stop())
    log.info("switchboard engine ready: SIP %s:%d, control %s%s", settings.sip.address, port, control.path,
             " (simulated hardware)" if options.sim else "")
    notifier.ready(f"SIP {settings.sip.address}:{port}, {len(settings.lines)} lines")
    try:
        loop.run(tel.poll, engine.handle, tick=notifier.tick)
    finally:
        log.info("stopping")
        notifier.stopping()
        control.stop()
        engine.shutdown()
        for _ in range(30):  # let the hang-ups go out and their events be recorded
            loop.turn(tel.poll, engine.handle)
        loop.clear()
        if panel:
            panel.close()
        if simulation:
            simulation.close()
        del engine
        tel.shutdown()
        writer.close()
    return 0
