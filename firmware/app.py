"""The composition root: builds the engine from the stored configuration, with real or simulated parts.

This is the only place that knows whether the box is simulated; everything below receives its parts.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from firmware import panels, prompts, settings as settings_mod
from firmware.events import DeviceEvent, IncomingCall
from firmware.simulation import Simulation
from firmware.startup import Timeline
from firmware.indicator_worker import IndicatorWorker
from firmware.notify import Notifier
from firmware.control.server import ControlServer
from firmware.edge import process as edge_process
from firmware.edge.process import EdgeError, ManagedEdge, SystemdEdge, resolve_internal_port
from firmware.edge.render import EdgePlan
from firmware.engine.core import Engine
from firmware.store import backup, db as dbmod, queries, recordings
from firmware.store.retention import Retention
from firmware.store.writer import Writer
from firmware.telephony.loop import Loop
from firmware.timeutil import iso, iso_now

if TYPE_CHECKING:
    from firmware.telephony.modems import ModemLine

log = logging.getLogger("switchboard")
RESTART_EXIT = 75
"""Exit code of an engine stopped by the `restart` control command (EX_TEMPFAIL); systemd restarts it."""


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


def repair_logged(path: Path, writer: Writer) -> None:
    if recordings.repair(path):
        log.warning("recording %s was left open by an interrupted engine; header repaired", path.name)
        writer.log("warning", "recordings", f"repaired the header of {path.name} (engine stopped during the call)")


def close_interrupted(row: dict, writer: Writer | None = None) -> dict:
    """A call record left open by a stopped engine gets an end and a disposition; its recording's
    header is mended (after its last write time is read: that is when the call ended)."""
    ended = iso_now()
    talk = 0.0
    if row.get("recording") and Path(row["recording"]).is_file():
        path = Path(row["recording"])
        ended = iso(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc))
        talk = recordings.duration_s(path)
        if writer is not None:
            repair_logged(path, writer)
    if row.get("connected_at"):
        return {"ended_at": ended, "disposition": "answered", "talk_s": round(talk, 3),
                "end_reason": "engine stopped during the call"}
    return {"ended_at": ended, "disposition": "failed", "end_reason": "engine stopped before the call was answered"}


def headset_watcher(settings: settings_mod.Settings, sim: bool, root, emit):
    """Polls the sound cards for each station's headset; changes go to the loop as device events."""
    from drivers.audio import HeadsetWatcher
    from firmware.telephony.headsets import HEADSET_SOURCE

    wanted = {o.name: o.headset or (o.name if sim else None) for o in settings.operators if o.kind == "station"}
    return HeadsetWatcher(wanted, lambda presence: emit(DeviceEvent(HEADSET_SOURCE, presence)), root)


def start_edge(settings, tel, port: int, data_dir: Path, sim: bool):
    """The engine on loopback behind the edge; in simulation the edge (Kamailio) is started here, on
    the box systemd runs it (switchboard-edge.service) from the same rendered files."""
    if not sim and not (settings.edge.engine_port and settings.edge.internal_port):
        raise EdgeError("on the box edge.engine_port and edge.internal_port must be fixed ports (not 0): "
                        "switchboard-edge.service renders them before the engine starts")
    internal = resolve_internal_port(settings.edge.internal_port)
    tel.start(settings, settings.edge.engine_port, bind="127.0.0.1", proxy=f"sip:127.0.0.1:{internal};lr",
              edge_address=f"127.0.0.1:{internal}")
    plan = EdgePlan(settings, port, internal, tel.sip_port, edge_process.run_dir(data_dir))
    if not sim:
        edge = SystemdEdge(plan)
        edge.apply(settings)
        return edge
    edge = ManagedEdge(plan)
    edge.start()
    return edge


def run(options: Options) -> int:
    timeline = Timeline()
    from firmware.telephony.modem_lines import ModemLines
    from firmware.telephony.sip import PjsuaTelephony, StartError
    from firmware.telephony.headsets import AlsaHeadsets, SimulatedHeadsets
    from firmware.telephony.stations import ring_tone

    timeline.mark("imports")
    data_dir = options.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    restored = backup.apply_pending(data_dir)  # a backup staged by `restore`, swapped in before the store opens
    if restored:
        log.warning("restored the backup of %s; the previous database is in %s", restored["created_at"],
                    restored["previous"])
    writer = Writer(data_dir)
    try:
        settings = load_settings(data_dir, writer, options.sim)
    except settings_mod.SettingsError as exc:
        log.error("the stored configuration is invalid; fix it with `switchboard config import`:\n%s", exc)
        writer.close()
        return 2
    timeline.mark("store")
    if any(line.kind == "modem" for line in settings.lines):
        # With a modem line configured, its driver (and numpy) is imported now, before pjsua2 starts,
        # rather than by the first make_modem_line below: imported after, what the import used and
        # freed stays as holes in the heap (1.9 MB more RSS measured). Without one: see there.
        import drivers.modem  # noqa: F401
        timeline.mark("modem driver")
    # The recordings of calls left open are mended before their records close (the encoder takes
    # closed ones); the scan of every file (orphans, voicemail) waits until SIP is up.
    leftovers = recordings.left_open(data_dir)
    closed = writer.close_interrupted_calls(lambda row: close_interrupted(row, writer))
    if closed:
        log.warning("closed %d call records left open by a stopped engine", closed)
    timeline.mark("records")
    try:
        prompts.render_all(settings, data_dir)
    except prompts.PromptError as exc:
        log.error("some prompts could not be made: %s", exc)
    timeline.mark("prompts")

    loop = Loop(urgent=(IncomingCall,))  # a waiting INVITE's 200 first (see Loop)
    ring_file = ring_tone(data_dir / "tones")
    if options.sim:
        stations = SimulatedHeadsets(data_dir / "stations", ring_file)
    else:
        import pjsua2
        stations = AlsaHeadsets(pjsua2, lambda: tel.ep, ring_file)
    tel = PjsuaTelephony(loop.emit, stations, lambda s: prompts.cached(s, data_dir))
    port = options.sip_port or settings.sip.port
    edge = None
    try:
        if settings.edge is None:
            tel.start(settings, port)
        else:
            edge = start_edge(settings, tel, port, data_dir, options.sim)
    except (StartError, EdgeError) as exc:
        log.error("%s", exc)
        tel.shutdown()
        writer.close()
        return 1
    timeline.mark("sip")
    reader = dbmod.open_read(data_dir)
    override = queries.state(reader, "hours_override", "auto")
    pending_callbacks, unheard = queries.pending_callbacks(reader), queries.unheard_messages(reader)
    reader.conn.close()
    loop.waker = tel.wake  # other threads' commands and events end the loop's wait at once
    buttons = panels.ButtonRouter(loop.post)  # the panel test shows presses instead of acting on them
    panel, pin_map = panels.build(settings, options.sim, loop.post, buttons)
    simulation = Simulation(panel, pin_map, data_dir) if options.sim else None
    if simulation:
        simulation.add_headsets([o.name for o in settings.operators if o.kind == "station"])
    watcher = headset_watcher(settings, options.sim, simulation.sound_root if simulation else "/", loop.emit)

    def make_modem_line(line) -> ModemLine:
        # The modem driver is imported with the first modem line (at start, or when a reload adds one),
        # not before: it brings numpy, about 14 MB of RSS together, which an engine with SIP lines only
        # never needs (issue 9: 80 MB at 30 calls; and start-up time on the Pi).
        from drivers.modem import Modem
        from firmware.telephony.modems import ModemLine, modem_settings
        device = simulation.modem(line.name).path if simulation else line.device
        return ModemLine(line.name, Modem(
            device, lambda event, name=line.name: loop.emit(DeviceEvent(f"modem:{name}", event)),
            modem_settings(line)))

    tel.modem_registry = ModemLines(tel.modem_lines, make_modem_line, tel.add_modem_line)
    tel.modem_registry.reconcile(settings.lines)  # and again at each reload (tel.configure)
    # LED changes go through a worker thread: gpiozero's blink thread start/join stalled the loop
    indicators = IndicatorWorker(panels.PanelIndicators(panel)) if panel else None
    engine = Engine(settings, tel, writer, loop, data_dir, clock=loop.clock,
                    wall=lambda: dt.datetime.now(dt.timezone.utc), hours_override=override,
                    indicators=indicators,
                    pending_callbacks=pending_callbacks, unheard_messages=unheard)
    info = {"sip": {"address": settings.sip.address, "port": port}, "pid": os.getpid(),
            "started_at": iso_now(), "simulated": options.sim, "data_dir": str(data_dir)}
    if edge is not None:
        info["sip"]["engine"] = f"127.0.0.1:{tel.sip_port}"
    retention = Retention(data_dir, writer)  # recordings by age and disk use, on its own thread
    restart = []

    def request_restart() -> None:
        restart.append(True)
        loop.stop()

    control = ControlServer(data_dir, loop.post, writer, info, simulation, panel, edge=edge, retention=retention,
                            restart=request_restart, buttons=buttons)
    control.start()
    retention.start()
    notifier = Notifier()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: loop.stop())
    log.info("switchboard engine ready: SIP %s:%d, control %s%s", settings.sip.address, port, control.path,
             " (simulated hardware)" if options.sim else "")
    watcher.start()
    notifier.ready(f"SIP {settings.sip.address}:{port}, {len(settings.lines)} lines")
    timeline.mark("ready")
    info["startup_s"] = timeline.marks
    log.info("start-up: %s", timeline.summary())
    mending = threading.Thread(target=lambda: [repair_logged(p, writer) for p in leftovers],
                               name="recording-repair", daemon=True)
    mending.start()
    try:
        loop.run(tel.poll, engine.handle, tick=notifier.tick)
    finally:
        log.info("stopping")
        notifier.stopping()
        control.stop()
        watcher.stop()
        retention.stop()
        mending.join(30)
        engine.shutdown()
        for _ in range(30):  # let the hang-ups go out and their events be recorded
            loop.turn(tel.poll, engine.handle)
        loop.clear()
        if indicators:
            indicators.close()
        if panel:
            panel.close()
        if simulation:
            simulation.close()
        del engine
        tel.shutdown()
        if edge is not None:
            edge.stop()
        writer.close()
    if restart:  # a non-zero exit: systemd's Restart=on-failure starts the engine again
        log.info("stopped for a restart (exit code %d)", RESTART_EXIT)
        return RESTART_EXIT
    return 0
