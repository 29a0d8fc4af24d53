"""The gpiozero panel on gpiozero's MockFactory(pin_class=MockPWMPin): pins driven and read, no patching."""

import math
import threading
import time

import pytest
from gpiozero.exc import GPIOPinInUse
from gpiozero.pins.mock import MockFactory, MockPWMPin

from drivers.panel import (
    BoxHealth,
    ButtonName,
    GpioPanel,
    PanelConfigError,
    StationState,
    make_panel,
    station_pattern,
)
from drivers.panel.mock import PressLog, hold_button, led_brightness, led_pin, press_button, release_button
from drivers.panel.patterns import LAMP_TEST

PIN_MAP = {
    "stations": {
        "alice": {"answer": {"bcm": 5}, "ready": {"bcm": 6}, "transfer": {"bcm": 13}, "status": {"bcm": 17}},
        # Wired the other way round: buttons to 3.3 V, LED lit by a low pin.
        "bob": {"answer": {"bcm": 19, "pull_up": False}, "ready": {"bcm": 26, "pull_up": False},
                "transfer": {"bcm": 21, "pull_up": False}, "status": {"bcm": 22, "active_high": False}},
    },
    "box": {"bcm": 27},
    "debounce_s": 0.03,
    "long_press_s": 0.5,
}
STATIONS = ["alice", "bob"]


@pytest.fixture
def factory():
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.close()


@pytest.fixture
def presses():
    return PressLog()


@pytest.fixture
def panel(factory, presses):
    panel = GpioPanel(PIN_MAP, factory, presses)
    yield panel
    panel.close()


def settle(seconds=0.15):
    time.sleep(seconds)


def runs(pin, count, timeout):
    """Wait until the pin changed `count` more times; (level, seconds it lasted) of each completed run.

    MockPin.states holds (seconds since the previous change, new state); the first run is cut short by
    clear_states, so it is dropped."""
    deadline = time.monotonic() + timeout
    while len(pin.states) < count + 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    states = list(pin.states)
    assert len(states) >= count + 1, f"the pin changed only {len(states) - 1} times: {states}"
    return [(states[i - 1].state, states[i].timestamp) for i in range(2, len(states))]


def assert_blinks(pin, on_time, off_time, active_high=True):
    lit = 1.0 if active_high else 0.0
    observed = runs(pin, 3, timeout=2 * (on_time + off_time) + 1)
    for level, lasted in observed:
        expected = on_time if level == lit else off_time
        assert math.isclose(lasted, expected, abs_tol=0.1), (level, lasted, observed)


# --- buttons --------------------------------------------------------------------------------------

@pytest.mark.parametrize("station", STATIONS)
def test_a_press_reaches_on_button_once(panel, presses, station):
    press_button(panel, station, "answer", seconds=0.1)
    assert presses.wait_for(1) == [(station, ButtonName.answer, False)]
    settle()
    assert len(presses.presses) == 1


def test_bouncing_contacts_make_one_press(panel, presses):
    press_button(panel, "alice", "transfer", seconds=0.1, bounces=4)  # 9 edges down, 9 up
    assert presses.wait_for(1) == [("alice", ButtonName.transfer, False)]
    settle()
    assert presses.presses == [("alice", ButtonName.transfer, False)]


def test_a_blip_shorter_than_the_debounce_time_is_no_press(panel, presses):
    hold_button(panel, "alice", "answer")
    release_button(panel, "alice", "answer")
    settle()
    assert presses.presses == []


def test_a_long_press_is_reported_while_held_and_never_also_as_short(panel, presses):
    hold_button(panel, "alice", "ready")
    assert presses.wait_for(1) == [("alice", ButtonName.ready, True)]  # still held
    settle(0.4)
    release_button(panel, "alice", "ready")
    settle()
    assert presses.presses == [("alice", ButtonName.ready, True)]


def test_presses_on_different_buttons_and_stations_are_told_apart(panel, presses):
    press_button(panel, "alice", "answer")
    press_button(panel, "bob", "ready")
    press_button(panel, "bob", "transfer")
    assert presses.wait_for(3) == [("alice", "answer", False), ("bob", "ready", False), ("bob", "transfer", False)]


def test_a_failing_receiver_does_not_stop_the_buttons(factory, caplog):
    calls = []

    def on_button(station, button, long_press):
        calls.append(button)
        raise RuntimeError("receiver bug")

    with GpioPanel(PIN_MAP, factory, on_button) as panel:
        press_button(panel, "alice", "answer")
        settle()
        press_button(panel, "alice", "ready")
        settle()
    assert calls == ["answer", "ready"]
    assert "receiver bug" in caplog.text


# --- LEDs -----------------------------------------------------------------------------------------

STEADY = {StationState.logged_out: 0.0, StationState.ready: 0.2, StationState.on_call: 1.0}
BLINKING = [s for s in StationState if s not in STEADY]


@pytest.mark.parametrize("station", STATIONS)
@pytest.mark.parametrize("state", list(STEADY))
def test_steady_states_set_the_brightness(panel, station, state):
    panel.set_station(station, "ringing")
    panel.set_station(station, state)
    assert led_brightness(panel, station) == pytest.approx(STEADY[state])


@pytest.mark.parametrize("state", BLINKING)
def test_blinking_states_blink_with_their_pattern(panel, state):
    pattern = station_pattern(state)
    pin = led_pin(panel, "alice")
    pin.clear_states()
    panel.set_station("alice", state)
    assert_blinks(pin, pattern.on_time, pattern.off_time)


def test_an_active_low_led_blinks_inverted(panel):
    pin = led_pin(panel, "bob")
    pin.clear_states()
    panel.set_station("bob", "ringing")
    assert_blinks(pin, 0.1, 0.1, active_high=False)


def test_setting_the_same_state_again_keeps_the_blink_going(panel):
    pin = led_pin(panel, "alice")
    panel.set_station("alice", "ringing")
    settle(0.05)
    pin.clear_states()
    panel.set_station("alice", StationState.ringing)  # would restart (a fresh "on") if re-applied
    assert_blinks(pin, 0.1, 0.1)


def test_unknown_station_or_state_is_refused(panel):
    with pytest.raises(KeyError, match="carol"):
        panel.set_station("carol", "ready")
    with pytest.raises(ValueError, match="lunch"):
        panel.set_station("alice", "lunch")


def test_the_box_led_follows_health(panel):
    box = led_pin(panel)
    assert led_brightness(panel) == 0.0  # nothing said yet
    panel.set_box(BoxHealth())
    assert led_brightness(panel) == 1.0
    box.clear_states()
    panel.set_box(BoxHealth(lines_down=1))
    assert_blinks(box, 1.0, 1.0)
    box.clear_states()
    panel.set_box(BoxHealth(lines_down=1, callers_waiting=2))
    assert_blinks(box, 0.1, 0.1)
    panel.set_box(BoxHealth(lines_down=0, callers_waiting=0))
    assert led_brightness(panel) == 1.0


def test_lamp_test_blinks_every_led_then_restores_the_states(panel):
    panel.set_station("alice", "on_call")
    panel.set_station("bob", "ready")
    panel.set_box(BoxHealth())
    pins = [led_pin(panel, "alice"), led_pin(panel, "bob"), led_pin(panel)]
    for pin in pins:
        pin.clear_states()
    panel.blink_all(1.2)
    panel.set_station("alice", "logged_out")  # remembered, shown after the test
    for pin, active_high in zip(pins, [True, False, True]):
        assert_blinks(pin, LAMP_TEST.on_time, LAMP_TEST.off_time, active_high)
    settle(0.6)
    assert led_brightness(panel, "alice") == 0.0
    assert led_brightness(panel, "bob") == pytest.approx(0.2)
    assert led_brightness(panel) == 1.0


# --- configuration and life cycle -----------------------------------------------------------------

def test_a_bad_pin_map_is_refused_naming_station_and_pin(factory, presses):
    bad = {"stations": {"alice": {**PIN_MAP["stations"]["alice"], "status": {"bcm": 5}}}, "box": {"bcm": 40}}
    with pytest.raises(PanelConfigError) as refused:
        GpioPanel(bad, factory, presses)
    text = str(refused.value)
    assert "stations.alice.status.bcm = 5: GPIO 5 is already used by stations.alice.answer.bcm" in text
    assert "box.bcm = 40: GPIO 40 is not on the Pi header" in text


def test_close_turns_leds_off_stops_threads_and_releases_the_pins(factory, presses):
    before = set(threading.enumerate())
    panel = GpioPanel(PIN_MAP, factory, presses)
    with pytest.raises(GPIOPinInUse):
        GpioPanel(PIN_MAP, factory, presses)
    panel.set_station("alice", "ringing")
    panel.set_station("bob", "on_call")
    panel.set_box(BoxHealth())
    panel.blink_all(5)
    panel.close()
    panel.close()  # idempotent
    settle(0.2)
    assert set(threading.enumerate()) <= before
    for bcm in (17, 22, 27):
        assert factory.pin(bcm).function == "input"
    again = GpioPanel(PIN_MAP, factory, presses)  # the pins are free again
    press_button(again, "alice", "answer")
    assert presses.wait_for(1) == [("alice", "answer", False)]
    again.close()


def test_after_close_setting_leds_does_nothing(factory, presses):
    panel = GpioPanel(PIN_MAP, factory, presses)
    panel.close()
    panel.set_station("alice", "on_call")
    panel.set_box(BoxHealth())
    panel.blink_all(1)


def test_make_panel_mock_is_gpiozero_on_its_own_pwm_mock_factory(presses):
    panel = make_panel("mock", PIN_MAP, presses)
    try:
        assert isinstance(panel.pin_factory, MockFactory)
        panel.set_station("alice", "ready")
        assert led_brightness(panel, "alice") == pytest.approx(0.2)
        press_button(panel, "bob", "answer")
        assert presses.wait_for(1) == [("bob", "answer", False)]
    finally:
        panel.close()


def test_make_panel_refuses_an_unknown_kind(presses):
    with pytest.raises(ValueError, match="unknown panel kind 'fake'"):
        make_panel("fake", PIN_MAP, presses)


def test_without_pwm_a_dimmed_state_shows_fully_lit(presses, caplog):
    factory = MockFactory()  # plain MockPin: no PWM
    try:
        with GpioPanel(PIN_MAP, factory, presses) as panel:
            panel.set_station("alice", "ready")
            assert led_brightness(panel, "alice") == 1.0
            panel.set_station("alice", "logged_out")
            assert led_brightness(panel, "alice") == 0.0
        assert "GPIO 17 has no PWM" in caplog.text
    finally:
        factory.close()


def test_the_driver_knows_nothing_of_the_engine():
    import subprocess
    import sys

    code = ("import sys, drivers.panel, drivers.panel.mock; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('firmware', 'web', 'pjsua2')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
