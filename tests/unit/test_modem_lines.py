"""Modem lines follow a reload: the plan, and carrying it out (a call in progress keeps its modem)."""

import copy

from drivers.modem import LineChanged, LineState
from firmware import settings
from firmware.telephony.modem_lines import ModemLines, plan


def configured(**analog) -> list:
    data = settings.demo().model_dump(mode="json", exclude_none=True)
    data = copy.deepcopy(data)
    line = next(ln for ln in data["lines"] if ln["kind"] == "modem")
    if analog.pop("gone", False):
        data["lines"].remove(line)
    else:
        line.update(analog)
    return settings.from_dict(data).lines


class FakeModem:
    def __init__(self, line):
        self.line, self.closed = line, False

    def close(self):
        self.closed = True


class FakeModemLine:
    def __init__(self, line):
        self.name, self.modem, self.leg = line.name, FakeModem(line), None


def registry():
    lines = {}
    return lines, ModemLines(lines, FakeModemLine, lambda ml: lines.__setitem__(ml.name, ml))


def test_the_plan():
    lines = {ln.name: ln for ln in configured() if ln.kind == "modem"}
    assert plan({}, configured()).add == list(lines.values())
    assert plan(lines, configured()) == plan(lines, configured()) and not any(plan(lines, configured()).__dict__.values())
    assert [ln.max_silence_s for ln in plan(lines, configured(max_silence_s=30)).change] == [30]
    assert [ln.device for ln in plan(lines, configured(device="/dev/ttyACM1")).change] == ["/dev/ttyACM1"]
    routes = [{"number": "*", "day_menu": "closed"}]
    assert not plan(lines, configured(routes=routes)).change  # routes are the engine's, not the driver's
    assert plan(lines, configured(gone=True)).remove == ["analog"]


def test_an_idle_line_is_reopened_at_once_and_a_removed_one_closed():
    lines, modems = registry()
    modems.reconcile(configured())
    first = lines["analog"]
    assert modems.reconcile(configured(busy_tone_cycles=6)) == ["modem line analog reopened with its new settings"]
    assert first.modem.closed and lines["analog"].modem.line.busy_tone_cycles == 6
    assert modems.reconcile(configured(gone=True)) == ["modem line analog closed"]
    assert "analog" not in lines and modems.reconcile(configured()) == ["modem line analog opened"]


def test_a_line_in_a_call_changes_when_the_call_is_over():
    lines, modems = registry()
    modems.reconcile(configured())
    in_call = lines["analog"]
    in_call.leg = "analog#1"
    assert modems.reconcile(configured(max_call_s=600)) == ["modem line analog changes when its call ends"]
    assert lines["analog"] is in_call and not in_call.modem.closed
    modems.settle("analog", LineChanged(LineState.in_call, LineState.hanging_up))
    assert lines["analog"] is in_call
    in_call.leg = None
    modems.settle("analog", LineChanged(LineState.hanging_up, LineState.idle))
    assert in_call.modem.closed and lines["analog"].modem.line.max_call_s == 600


def test_a_change_undone_before_the_call_ends_is_dropped():
    lines, modems = registry()
    modems.reconcile(configured())
    lines["analog"].leg = "analog#1"
    modems.reconcile(configured(max_call_s=600))
    modems.reconcile(configured())
    lines["analog"].leg = None
    modems.settle("analog", LineChanged(LineState.hanging_up, LineState.idle))
    assert not lines["analog"].modem.closed
