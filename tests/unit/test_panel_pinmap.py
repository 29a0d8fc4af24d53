"""The pin map: what a valid one looks like, and every way a wrong one is refused (all problems at once)."""

import copy
import tomllib

import pytest
from pydantic import BaseModel, ValidationError

from drivers.panel import ButtonName, PanelConfigError, PinMap, validate_pin_map

GOOD = {
    "stations": {
        "alice": {"answer": {"bcm": 5}, "ready": {"bcm": 6}, "transfer": {"bcm": 13}, "status": {"bcm": 17}},
        "bob": {"answer": {"bcm": 19}, "ready": {"bcm": 26}, "transfer": {"bcm": 21}, "status": {"bcm": 22}},
    },
    "box": {"bcm": 27, "active_high": False},
}


def refused(raw) -> list[tuple[str, object, str]]:
    with pytest.raises(PanelConfigError) as error:
        validate_pin_map(raw)
    return error.value.problems


def changed(**stations_alice):
    raw = copy.deepcopy(GOOD)
    raw["stations"]["alice"].update(stations_alice)
    return raw


def test_a_good_pin_map_gets_defaults():
    pin_map = validate_pin_map(GOOD)
    assert pin_map.stations["alice"].answer.pull_up is True
    assert pin_map.stations["alice"].status.active_high is True
    assert pin_map.box.active_high is False
    assert (pin_map.debounce_s, pin_map.long_press_s) == (0.03, 2.0)
    assert [(s, b.value, p.bcm) for s, b, p in pin_map.button_pins()][:3] == [
        ("alice", "answer", 5), ("alice", "ready", 6), ("alice", "transfer", 13)]
    assert [led.bcm for led in pin_map.led_pins()] == [17, 22, 27]
    assert validate_pin_map(pin_map) is pin_map


def test_it_reads_from_toml():
    text = """
        box = { bcm = 27 }
        long_press_s = 1.5
        [stations.alice]
        answer = { bcm = 5 }
        ready = { bcm = 6, pull_up = false }
        transfer = { bcm = 13 }
        status = { bcm = 17 }
    """
    pin_map = validate_pin_map(tomllib.loads(text))
    assert pin_map.stations["alice"].ready.pull_up is False and pin_map.long_press_s == 1.5


def test_a_pin_used_twice_names_both_users():
    raw = changed(transfer={"bcm": 5})
    raw["box"] = {"bcm": 17}
    assert refused(raw) == [
        ("stations.alice.transfer.bcm", 5, "GPIO 5 is already used by stations.alice.answer.bcm"),
        ("box.bcm", 17, "GPIO 17 is already used by stations.alice.status.bcm"),
    ]


def test_a_pin_used_by_two_stations():
    raw = copy.deepcopy(GOOD)
    raw["stations"]["bob"]["ready"] = {"bcm": 6}
    assert refused(raw) == [("stations.bob.ready.bcm", 6, "GPIO 6 is already used by stations.alice.ready.bcm")]


@pytest.mark.parametrize("bcm", [40, 28, -1])
def test_a_pin_not_on_the_header(bcm):
    assert refused(changed(answer={"bcm": bcm})) == [
        ("stations.alice.answer.bcm", bcm, f"GPIO {bcm} is not on the Pi header (BCM 0-27)")]


@pytest.mark.parametrize("bcm", ["5", 5.0, True])
def test_a_pin_number_must_be_an_integer(bcm):
    assert refused(changed(answer={"bcm": bcm})) == [("stations.alice.answer.bcm", bcm, "a BCM pin number, 0-27")]


def test_missing_fields():
    raw = changed()
    del raw["stations"]["alice"]["transfer"]
    del raw["stations"]["bob"]["status"]["bcm"]
    del raw["box"]
    assert refused(raw) == [
        ("stations.alice.transfer", None, "required, missing"),
        ("stations.bob.status.bcm", None, "required, missing"),
        ("box", None, "required, missing"),
    ]


def test_unknown_keys():
    raw = changed(hangup={"bcm": 4})
    raw["stations"]["bob"]["status"]["colour"] = "red"
    raw["buzzer"] = {"bcm": 3}
    assert refused(raw) == [
        ("stations.alice.hangup", {"bcm": 4}, "unknown key"),
        ("stations.bob.status.colour", "red", "unknown key"),
        ("buzzer", {"bcm": 3}, "unknown key"),
    ]


def test_every_problem_is_listed_at_once_and_the_message_names_station_and_pin():
    raw = changed(answer={"bcm": 40}, ready={"bcm": 13, "pul_up": True})
    message = str(pytest.raises(PanelConfigError, validate_pin_map, raw).value)
    assert message.splitlines() == [
        "stations.alice.answer.bcm = 40: GPIO 40 is not on the Pi header (BCM 0-27)",
        "stations.alice.ready.pul_up = True: unknown key",
        "stations.alice.transfer.bcm = 13: GPIO 13 is already used by stations.alice.ready.bcm",
    ]


def test_timing_out_of_range():
    raw = {**GOOD, "debounce_s": 1, "long_press_s": 0.1}
    keys = [key for key, _, _ in refused(raw)]
    assert keys == ["debounce_s", "long_press_s"]


def test_not_a_table():
    assert refused([1, 2]) == [("panel", [1, 2], "a pin map is a table (stations, box, ...)")]


def test_the_model_itself_refuses_a_reused_pin_when_embedded_elsewhere():
    class Settings(BaseModel):
        panel: PinMap

    with pytest.raises(ValidationError, match="GPIO 5 is already used by stations.alice.answer.bcm"):
        Settings.model_validate({"panel": changed(ready={"bcm": 5})})


def test_every_field_is_documented():
    """The box's settings docs test walks embedded models; every key needs a docstring."""
    def walk(model, prefix=""):
        for name, field in model.model_fields.items():
            yield prefix + name, field.description
            inner = getattr(field.annotation, "__args__", (field.annotation,))[-1]
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from walk(inner, f"{prefix}{name}.")

    docs = dict(walk(PinMap))
    assert "stations.answer.pull_up" in docs and "box.active_high" in docs
    assert [key for key, doc in docs.items() if not (doc or "").strip()] == []


def test_every_button_has_a_field():
    assert {b.value for b in ButtonName} | {"status"} == set(PinMap.model_fields["stations"].annotation.__args__[1].model_fields)


def test_a_station_needs_a_name():
    raw = copy.deepcopy(GOOD)
    raw["stations"][""] = raw["stations"].pop("bob")
    assert refused(raw) == [("stations.", "", "not a station name: String should have at least 1 character")]
