"""PeripheryPanel on fake lines: its polling thread, software blinker and wiring polarity.

The real periphery.GPIO lines need /dev/gpiochip0 and are exercised on a bench box only."""

import threading
import time

import pytest

from drivers.panel import BoxHealth, PeripheryPanel
from drivers.panel.mock import PressLog

PIN_MAP = {
    "stations": {
        "alice": {"answer": {"bcm": 5}, "ready": {"bcm": 6}, "transfer": {"bcm": 13}, "status": {"bcm": 17}},
        "bob": {"answer": {"bcm": 19, "pull_up": False}, "ready": {"bcm": 26, "pull_up": False},
                "transfer": {"bcm": 21, "pull_up": False}, "status": {"bcm": 22, "active_high": False}},
    },
    "box": {"bcm": 27},
    "long_press_s": 0.5,
}


class FakeLine:
    """A GPIO line as periphery.GPIO offers it; `level` is what the pin is at, `writes` its history."""

    def __init__(self, bcm, direction, bias):
        self.bcm, self.direction, self.bias = bcm, direction, bias
        self.level = {"in": bias == "pull_up", "low": False, "high": True}[direction]
        self.writes: list[tuple[float, bool]] = []
        self.closed = False

    def read(self):
        assert not self.closed
        return self.level

    def write(self, value):
        assert not self.closed and self.direction != "in"
        self.level = value
        self.writes.append((time.monotonic(), value))

    def close(self):
        self.closed = True


class FakeChip:
    def __init__(self):
        self.lines: dict[int, FakeLine] = {}

    def open_line(self, bcm, direction, bias):
        assert bcm not in self.lines or self.lines[bcm].closed, f"GPIO {bcm} opened twice"
        self.lines[bcm] = FakeLine(bcm, direction, bias)
        return self.lines[bcm]


@pytest.fixture
def chip():
    return FakeChip()


@pytest.fixture
def presses():
    return PressLog()


@pytest.fixture
def panel(chip, presses):
    panel = PeripheryPanel(PIN_MAP, presses, open_line=chip.open_line)
    yield panel
    panel.close()


def wait_until(condition, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_lines_are_opened_with_the_wiring_of_the_pin_map(panel, chip):
    assert (chip.lines[5].direction, chip.lines[5].bias) == ("in", "pull_up")
    assert (chip.lines[19].direction, chip.lines[19].bias) == ("in", "pull_down")
    assert chip.lines[17].direction == "low" and chip.lines[22].direction == "high"  # both start dark


def test_presses_short_and_long_with_either_pull(panel, chip, presses):
    chip.lines[5].level = False     # alice answer: pull-up, pressed = low
    time.sleep(0.15)
    chip.lines[5].level = True
    chip.lines[26].level = True     # bob ready: pull-down, pressed = high
    assert presses.wait_for(2) == [("alice", "answer", False), ("bob", "ready", True)]
    chip.lines[26].level = False
    time.sleep(0.15)
    assert len(presses.presses) == 2


def test_a_button_held_when_the_panel_starts_is_not_a_press(chip, presses):
    def open_line(bcm, direction, bias):
        line = chip.open_line(bcm, direction, bias)
        if bcm == 6:
            line.level = False  # alice's ready button, leaned on
        return line

    with PeripheryPanel(PIN_MAP, presses, open_line=open_line):
        time.sleep(0.7)  # longer than a long press
        chip.lines[6].level = True
        time.sleep(0.15)
    assert presses.presses == []


def test_leds_follow_patterns_in_software(panel, chip):
    panel.set_station("alice", "on_call")
    panel.set_station("bob", "on_call")
    assert wait_until(lambda: chip.lines[17].level is True and chip.lines[22].level is False)
    panel.set_box(BoxHealth(callers_waiting=1))
    time.sleep(0.5)
    box_writes = chip.lines[27].writes
    assert 3 <= len(box_writes) <= 7, box_writes   # 0.1 s on / 0.1 s off
    panel.set_station("alice", "logged_out")
    assert wait_until(lambda: chip.lines[17].level is False)


def test_dimmed_ready_shows_fully_lit_without_pwm(panel, chip):
    panel.set_station("alice", "ready")
    assert wait_until(lambda: chip.lines[17].level is True)


def test_close_darkens_the_leds_stops_the_thread_and_closes_every_line(chip, presses):
    before = set(threading.enumerate())
    panel = PeripheryPanel(PIN_MAP, presses, open_line=chip.open_line)
    panel.set_station("alice", "on_call")
    panel.set_station("bob", "on_call")
    panel.blink_all(5)
    time.sleep(0.05)
    panel.close()
    panel.close()
    time.sleep(0.05)
    assert set(threading.enumerate()) <= before
    assert all(line.closed for line in chip.lines.values())
    assert chip.lines[17].level is False and chip.lines[22].level is True


def test_a_line_that_cannot_be_opened_closes_the_ones_already_open(chip, presses):
    def open_line(bcm, direction, bias):
        if bcm == 26:
            raise OSError("GPIO 26 busy")
        return chip.open_line(bcm, direction, bias)

    with pytest.raises(OSError, match="GPIO 26 busy"):
        PeripheryPanel(PIN_MAP, presses, open_line=open_line)
    assert chip.lines and all(line.closed for line in chip.lines.values())
