"""What `switchboard engine` imports before it opens any line loads neither numpy nor the modem driver,
and making the engine's tone WAVs (tone prompts, music, the headsets' ring tone) needs no numpy: a
box of SIP lines only saves their memory (issue 9: 80 MB of RSS at 30 calls) and start-up time.
tests/e2e/test_engine_imports.py checks the same in a running engine, and the driver's arrival with
a modem line. A fresh interpreter each time: this test process has numpy loaded already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reliability.engine import ROOT

MODEM_ONLY = ("numpy", "drivers.modem", "firmware.telephony.modems", "firmware.sim.exchange", "firmware.headset_check")

ENGINE_START = """
import sys, json
from pathlib import Path
import firmware.cli, firmware.app
# what firmware.app.run imports before it builds anything
from firmware.telephony.modem_lines import ModemLines
from firmware.telephony.sip import PjsuaTelephony, StartError
from firmware.telephony.headsets import AlsaHeadsets, SimulatedHeadsets
from firmware.telephony.stations import ring_tone
from firmware import prompts
from firmware.settings import Prompt
from firmware.simulation import Simulation
folder = Path(sys.argv[1])
made = [ring_tone(folder / "tones"), prompts.render(Prompt(tone_hz=440, seconds=0.5), folder),
        prompts.render(Prompt(file="builtin:music"), folder)]
Simulation(None, None, folder).add_headsets(["st1"])
print(json.dumps({"modules": sorted(sys.modules), "made": [str(p) for p in made]}))
"""


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return json.loads(out.splitlines()[-1])


def modem_modules(modules) -> list[str]:
    return [m for m in modules if any(m == name or m.startswith(name + ".") for name in MODEM_ONLY)]


def test_the_engine_start_path_and_its_tone_files_load_no_numpy_nor_modem_driver(tmp_path):
    found = run(ENGINE_START, str(tmp_path))
    assert {"firmware.app", "firmware.telephony.sip", "sqlite_utils", "pjsua2"} <= set(found["modules"])
    assert modem_modules(found["modules"]) == []
    assert all(Path(p).stat().st_size > 1000 for p in found["made"])  # the WAVs were made


def test_the_first_simulated_modem_line_brings_the_exchange_and_numpy(tmp_path):
    code = ENGINE_START.replace("print(", "sim = Simulation(None, None, folder)\nsim.modem('analog')\nsim.close()\nprint(")
    modules = run(code, str(tmp_path))["modules"]
    assert {"numpy", "drivers.modem.simulator", "firmware.sim.exchange"} <= set(modules)
