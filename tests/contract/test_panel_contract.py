"""The panel's behaviour, run against every gpiozero pin factory that can load here.

- mock: gpiozero's MockFactory(pin_class=MockPWMPin); always runs.
- real: gpiozero's default pin factory (lgpio on a Pi) on a bench box; runs when SWITCHBOARD_TEST_GPIO
  is set: "1" for the bench pin map below, or the path of a pin-map TOML file. LEDs are read back from
  the output pins, so none need be fitted; pressing a button needs a person, so the press tests are
  skipped there.
"""

import math
import os
import threading
import time
import tomllib
from pathlib import Path

import pytest
from gpiozero.exc import GPIOPinInUse
from gpiozero.threads import GPIOThread

from drivers.panel import BoxHealth, StationState, make_panel, station_pattern, validate_pin_map
from drivers.panel.mock import PressLog, hold_button, led_brightness, press_button, release_button
from drivers.panel.patterns import LAMP_TEST

REAL_GPIO_ENV = "SWITCHBOARD_TEST_GPIO"

# Clear of 0-1 (HAT ID EEPROM), 2-3 (I2C) and 14-15 (the technician's serial console).
BENCH_PIN_MAP = {
    "stations": {
        "s1": {"answer": {"bcm": 4}, "ready": {"bcm": 5}, "transfer": {"bcm": 6}, "status": {"bcm": 16}},
        "s2": {"answer": {"bcm": 7}, "ready": {"bcm": 8}, "transfer": {"bcm": 9}, "status": {"bcm": 17}},
        "s3": {"answer": {"bcm": 10}, "ready": {"bcm": 11}, "transfer": {"bcm": 12}, "status": {"bcm": 18}},
        "s4": {"answer": {"bcm": 13, "pull_up": False}, "ready": {"bcm": 19}, "transfer": {"bcm": 20},
               "status": {"bcm": 21, "active_high": False}},
    },
    "box": {"bcm": 22},
    "long_press_s": 0.5,
}


def real_pin_map():
    value = os.environ.get(REAL_GPIO_ENV, "")
    if not value:
        pytest.skip(f"real GPIO: set {REAL_GPIO_ENV}=1 (bench pin map) or =PATH.toml "
                    "(a pin-map file) on a bench box to run these tests on gpiozero's default pin factory")
    if value == "1":
        return BENCH_PIN_MAP
    return {**tomllib.loads(Path(value).read_text()), "long_press_s": 0.5}


class Bench:
    """Builds panels of one kind and, where it can, presses their buttons."""

    def __init__(self, kind, pin_map, can_press):
        self.kind, self.pin_map, self.can_press = kind, validate_pin_map(pin_map), can_press
        self.stations = list(self.pin_map.stations)

    def panel(self, on_button):
        return make_panel(self.kind, self.pin_map, on_button)

    def need_hands(self):
        if not self.can_press:
            pytest.skip("pressing a button on real GPIO needs a person at the bench; "
                        "the press behaviour runs on the mock factory")


@pytest.fixture(params=["mock", "real"])
def bench(request):
    if request.param == "mock":
        return Bench("mock", BENCH_PIN_MAP, can_press=True)
    return Bench("gpiozero", real_pin_map(), can_press=False)


@pytest.fixture
def presses():
    return PressLog()


@pytest.fixture
def panel(bench, presses):
    panel = bench.panel(presses)
    yield panel
    panel.close()


def watch(panel, stations, seconds):
    """Sample the LEDs of `stations` (None = the box) every 5 ms: {station: [(level, lasted)]} of each
    complete run (the first and the last run are cut by the window, so they are left out)."""
    samples = {station: [] for station in stations}
    end = time.monotonic() + seconds
    while (now := time.monotonic()) < end:
        for station in stations:
            samples[station].append((now, led_brightness(panel, station) > 0))
        time.sleep(0.005)
    runs = {}
    for station, seen in samples.items():
        changes = [seen[0]] + [s for s, before in zip(seen[1:], seen) if s[1] != before[1]]
        runs[station] = [(a[1], b[0] - a[0]) for a, b in zip(changes[1:], changes[2:])]
    return runs


def assert_pattern(runs, on_time, off_time):
    assert {lit for lit, _ in runs} == {True, False}, f"did not blink: {runs}"
    for lit, lasted in runs:
        assert math.isclose(lasted, on_time if lit else off_time, abs_tol=0.1), runs


# --- buttons --------------------------------------------------------------------------------------

def test_a_press_reaches_on_button_once(bench, panel, presses):
    bench.need_hands()
    press_button(panel, "s1", "answer", bounces=3)
    press_button(panel, "s4", "answer")  # pulled down, pressed = high
    assert presses.wait_for(2) == [("s1", "answer", False), ("s4", "answer", False)]
    time.sleep(0.15)
    assert len(presses.presses) == 2


def test_a_long_press_is_long_and_only_long(bench, panel, presses):
    bench.need_hands()
    hold_button(panel, "s2", "ready")
    assert presses.wait_for(1) == [("s2", "ready", True)]
    release_button(panel, "s2", "ready")
    time.sleep(0.15)
    assert presses.presses == [("s2", "ready", True)]


# --- LEDs -----------------------------------------------------------------------------------------

def test_steady_states(bench, panel):
    station = bench.stations[-1]
    for state, brightness in [("ready", 0.2), ("on_call", 1.0), ("logged_out", 0.0)]:
        panel.set_station(station, state)
        assert led_brightness(panel, station) == pytest.approx(brightness, abs=0.01), state


def test_blinking_states_each_with_its_pattern(bench, panel):
    blinking = [s for s in StationState if station_pattern(s).is_blinking]
    assert len(bench.stations) >= len(blinking), "the bench pin map needs a station per blinking state"
    for station, state in zip(bench.stations, blinking):
        panel.set_station(station, state)
    longest = max(station_pattern(s).on_time * 2 + station_pattern(s).off_time for s in blinking)
    runs = watch(panel, bench.stations, longest + 0.3)
    for station, state in zip(bench.stations, blinking):
        pattern = station_pattern(state)
        assert_pattern(runs[station], pattern.on_time, pattern.off_time)


def test_the_box_led_follows_health(bench, panel):
    panel.set_box(BoxHealth())
    assert led_brightness(panel) == 1.0
    panel.set_box(BoxHealth(callers_waiting=1))
    assert_pattern(watch(panel, [None], 0.6)[None], 0.1, 0.1)
    panel.set_box(BoxHealth(lines_down=1))
    assert_pattern(watch(panel, [None], 3.3)[None], 1.0, 1.0)


def test_lamp_test_then_back_to_the_states(bench, panel):
    first = bench.stations[0]
    panel.set_station(first, "on_call")
    panel.blink_all(1.0)
    runs = watch(panel, [first, None], 0.9)
    assert_pattern(runs[first], LAMP_TEST.on_time, LAMP_TEST.off_time)
    assert_pattern(runs[None], LAMP_TEST.on_time, LAMP_TEST.off_time)
    time.sleep(0.3)
    assert led_brightness(panel, first) == 1.0 and led_brightness(panel) == 0.0


def test_unknown_station_is_refused(panel):
    with pytest.raises(KeyError):
        panel.set_station("nobody", "ready")


# --- life cycle -----------------------------------------------------------------------------------

def test_close_releases_the_pins_and_stops_the_threads(bench, presses):
    before = set(threading.enumerate())
    panel = bench.panel(presses)
    if bench.kind != "mock":  # a mock panel has a factory of its own, so only real pins can clash
        with pytest.raises(GPIOPinInUse):
            bench.panel(presses)
    panel.set_station(bench.stations[0], "ringing")
    panel.close()
    time.sleep(0.2)
    # Only the panel's own threads and gpiozero's device threads: a real factory may keep threads of its own.
    left = [t for t in set(threading.enumerate()) - before if isinstance(t, GPIOThread) or t.name.startswith("panel-")]
    assert left == []
    bench.panel(presses).close()
