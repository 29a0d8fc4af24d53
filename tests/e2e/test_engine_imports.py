"""An engine whose lines are all SIP never loads the modem driver nor numpy (about 14 MB of RSS
together, against issue 9's 80 MB at 30 calls); they come with the first modem line: when a reload
adds one, or at a start with one configured. Seen from the engine process itself: Python's import
profile (PYTHONPROFILEIMPORTTIME) writes each module to its log as it is imported, and
/proc/PID/maps shows whether numpy's libraries are mapped."""

from __future__ import annotations

import json
from pathlib import Path

from reliability.engine import Engine
from tests.e2e.boxes import box

IMPORT_LOG = {"PYTHONPROFILEIMPORTTIME": "1"}
MODEM_ONLY = ("numpy", "drivers.modem", "firmware.telephony.modems", "firmware.sim.exchange", "firmware.headset_check")


def imported(engine: Engine) -> set[str]:
    """Modules the engine process has imported so far, from its log."""
    return {line.rsplit("|", 1)[1].strip() for line in engine.log().splitlines()
            if line.startswith("import time:") and "|" in line}


def modem_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == name or m.startswith(name + ".") for name in MODEM_ONLY)}


def numpy_mapped(engine: Engine) -> bool:
    return "/numpy" in Path(f"/proc/{engine.proc.pid}/maps").read_text()


def ready(engine: Engine) -> Engine:
    engine.wait_for(lambda: "start-up:" in engine.log(), timeout=30, what="the engine ready")
    return engine


def test_numpy_and_the_modem_driver_come_only_with_a_modem_line(tmp_path):
    engine = ready(Engine(tmp_path, box(), env=IMPORT_LOG, daemon_only=True).start())  # as systemd runs it
    try:
        loaded = imported(engine)
        assert {"firmware.app", "firmware.telephony.sip", "sqlite_utils"} <= loaded  # the profile is there
        assert modem_modules(loaded) == set()
        assert not numpy_mapped(engine)

        with_modem = tmp_path / "with-modem.toml"
        with_modem.write_text(box(modem=True))
        engine.cli("config", "import", str(with_modem))  # the reload opens the new modem line
        line = lambda: json.loads(engine.cli("line", "analog", "--json").stdout)
        engine.wait_for(lambda: line()["state"] == "idle", what="the new modem line up")
        assert {"numpy", "drivers.modem", "firmware.sim.exchange"} <= imported(engine)
        assert numpy_mapped(engine)
    finally:
        assert engine.stop() == 0
    assert engine.clean_log(), engine.log()[-3000:]

    again = ready(Engine(tmp_path, data_dir=engine.data_dir, env=IMPORT_LOG, daemon_only=True).start())
    try:  # the stored configuration has the modem line: opened at start
        assert {"numpy", "drivers.modem", "firmware.sim.exchange"} <= imported(again)
    finally:
        assert again.stop() == 0
