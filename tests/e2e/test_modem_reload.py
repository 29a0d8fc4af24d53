"""Modem lines follow `config import` / `config set` / `reload` without a restart of the engine."""

from __future__ import annotations

import json
import tomllib

import tomli_w

from tests.e2e.boxes import box


def test_a_modem_line_added_changed_and_removed_by_reload(make_engine, tmp_path):
    engine = make_engine(box())
    line = lambda: json.loads(engine.cli("line", "analog", "--json").stdout)
    assert engine.cli("line", "analog", check=False).returncode == 1  # no such line yet

    with_modem = tmp_path / "with-modem.toml"
    with_modem.write_text(box(modem=True))
    out = engine.cli("config", "import", str(with_modem)).stdout
    assert "restart" not in out
    engine.wait_for(lambda: line()["state"] == "idle", what="the new modem line up")
    engine.cli("sim", "ring", "analog", "--caller-id", "5550170")
    engine.wait_for(lambda: engine.status()["calls"], what="a call on the new line")

    engine.cli("config", "set", "lines.analog.max_silence_s", "30")  # while its call is in progress
    assert line()["diagnostics"]["settings"]["line"]["max_silence"] == 120  # the call keeps its modem
    engine.cli("sim", "line", "analog", "loopbreak")
    engine.wait_for(lambda: line()["diagnostics"]["settings"]["line"]["max_silence"] == 30,
                    what="the change made once the call ended")
    engine.wait_for(lambda: line()["state"] == "idle", what="the reopened line up")
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="the call record")[0]
    assert rec["line"] == "analog" and rec["caller_id"] == "5550170"

    data = tomllib.loads(box(modem=True))
    data["lines"] = [ln for ln in data["lines"] if ln["kind"] != "modem"]
    without = tmp_path / "without.toml"
    without.write_text(tomli_w.dumps(data))
    engine.cli("config", "import", str(without))
    assert engine.cli("line", "analog", check=False).returncode == 1
    assert [ln["name"] for ln in engine.status()["lines"]] == ["gw"]
