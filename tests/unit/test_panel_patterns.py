"""LED patterns as pure functions of the operator's state and the box's health."""

import pytest

from drivers.panel import BoxHealth, Pattern, StationState, box_pattern, level_at, station_pattern
from drivers.panel.patterns import LAMP_TEST, STATION_PATTERNS
from firmware.engine.states import OperatorState


def test_every_operator_state_of_the_engine_has_a_pattern():
    for state in OperatorState:
        assert station_pattern(state) == station_pattern(state.value)


def test_states_and_their_patterns():
    assert station_pattern("logged_out").is_off
    assert station_pattern("ready") == Pattern(1.0, 0.0, brightness=0.2)
    assert station_pattern("on_call") == Pattern(1.0, 0.0, brightness=1.0)
    assert station_pattern("ringing") == Pattern(0.1, 0.1)
    assert station_pattern("wrapup") == Pattern(1.0, 1.0)
    assert station_pattern("paused") == Pattern(0.1, 1.4)
    assert station_pattern(StationState.unavailable) == Pattern(1.3, 0.2)


def test_every_state_looks_different_and_unlike_the_lamp_test():
    patterns = [STATION_PATTERNS[state] for state in StationState]
    assert len(set(patterns)) == len(patterns)
    assert LAMP_TEST not in patterns


def test_unknown_state():
    with pytest.raises(ValueError, match="unknown station state 'lunch'; one of logged_out, ready"):
        station_pattern("lunch")


@pytest.mark.parametrize("health, expected", [
    (BoxHealth(), Pattern(1.0, 0.0)),
    (BoxHealth(lines_down=1), Pattern(1.0, 1.0)),
    (BoxHealth(callers_waiting=3), Pattern(0.1, 0.1)),
    (BoxHealth(lines_down=2, callers_waiting=1), Pattern(0.1, 0.1)),
    (BoxHealth(unheard_messages=2), Pattern(1.3, 0.2)),
    (BoxHealth(lines_down=1, unheard_messages=2), Pattern(1.0, 1.0)),
])
def test_box_health(health, expected):
    assert box_pattern(health) == expected


def test_pattern_kinds():
    assert Pattern(0.0, 0.0, 0.0).is_off and Pattern(0.0, 1.0).is_off and Pattern(1.0, 1.0, 0.0).is_off
    assert Pattern(1.0, 0.0, 0.5).is_steady and not Pattern(1.0, 0.0, 0.5).is_blinking
    assert Pattern(0.5, 0.5).is_blinking


@pytest.mark.parametrize("args, message", [
    ((-1, 1), "on_time and off_time"),
    ((1, float("inf")), "on_time and off_time"),
    ((1, 0, 1.5), "brightness must be 0-1"),
    ((1, 1, 1.0, 0), "n must be None"),
    ((1, 1, 0.5), "cannot dim"),
])
def test_impossible_patterns_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        Pattern(*args)


def test_level_over_time():
    blink = Pattern(0.1, 0.3)
    assert [level_at(blink, t) for t in (0.0, 0.05, 0.1, 0.35, 0.4, 0.45, -1)] == [1, 1, 0, 0, 1, 1, 0]
    assert level_at(Pattern(1.0, 0.0, 0.2), 1234.5) == 0.2
    assert level_at(Pattern(0.0, 0.0, 0.0), 0.0) == 0.0


def test_a_counted_blink_ends_dark():
    twice = Pattern(0.1, 0.1, n=2)
    assert [level_at(twice, t) for t in (0.05, 0.15, 0.25, 0.35, 0.45, 10)] == [1, 0, 1, 0, 0, 0]
