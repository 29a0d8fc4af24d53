"""A modem line's supervision settings: validated with clear errors, and what the driver gets from them."""

import copy

import pytest

from drivers.modem.modem import ModemSettings
from firmware import settings
from firmware.settings import SettingsError
from firmware.telephony.modems import modem_settings


@pytest.fixture
def demo_dict():
    return settings.demo().model_dump(mode="json", exclude_none=True)


def analog(data) -> dict:
    return next(line for line in data["lines"] if line["kind"] == "modem")


def with_analog(data, **values) -> dict:
    data = copy.deepcopy(data)
    analog(data).update(values)
    return data


def refused(data) -> list[tuple[str, object, str]]:
    with pytest.raises(SettingsError) as info:
        settings.from_dict(data)
    return info.value.problems


def index_of_analog(data) -> int:
    return next(i for i, line in enumerate(data["lines"]) if line["kind"] == "modem")


def test_the_defaults_reach_the_driver_as_its_own_defaults(demo_dict):
    line = settings.from_dict(demo_dict).lines[index_of_analog(demo_dict)]
    driver = modem_settings(line)
    assert driver.line == ModemSettings().line
    assert driver.caller_id_region is None


def test_each_setting_reaches_the_driver(demo_dict):
    data = with_analog(demo_dict, busy_tone="uk", busy_tone_cycles=6, max_silence_s=30, max_call_s=600,
                       caller_id_region="etsi", answer_after_rings=3)
    driver = modem_settings(settings.from_dict(data).lines[index_of_analog(data)])
    policy = driver.line
    assert policy.busy_tone.frequencies == (400.0,) and policy.busy_tone.on_seconds == 0.375
    assert policy.busy_tone.cycles == 6 and policy.answer_after_rings == 3
    assert (policy.max_silence, policy.max_call_seconds) == (30, 600)
    assert driver.caller_id_region == "etsi"


def test_zero_turns_each_guard_off(demo_dict):
    data = with_analog(demo_dict, busy_tone_cycles=0, max_silence_s=0, max_call_s=0)
    policy = modem_settings(settings.from_dict(data).lines[index_of_analog(data)]).line
    assert (policy.busy_tone, policy.max_silence, policy.max_call_seconds) == (None, None, None)


@pytest.mark.parametrize("key, value, reason", [
    ("busy_tone_cycles", 1, "1 busy-tone cycle is too few"),
    ("busy_tone_cycles", 21, "less than or equal to 20"),
    ("max_silence_s", 2, "under 5 s, pauses in speech would end calls"),
    ("max_silence_s", -1, "greater than or equal to 0"),
    ("max_call_s", 30, "maximum call length under 60 s"),
    ("busy_tone", "mars", "'north_america', 'europe' or 'uk'"),
    ("caller_id_region", "fr", "'default', 'bell', 'etsi', 'uk' or 'dtmf'"),
])
def test_bad_values_are_refused_with_key_value_and_reason(demo_dict, key, value, reason):
    data = with_analog(demo_dict, **{key: value})
    [(where, got, why)] = refused(data)
    assert where == f"lines[{index_of_analog(data)}].{key}" and got == value and reason in why


def test_supervision_settings_on_a_sip_line_are_refused(demo_dict):
    data = copy.deepcopy(demo_dict)
    sip = next(line for line in data["lines"] if line["kind"] != "modem")
    sip["max_silence_s"] = 30
    sip["busy_tone"] = "europe"
    [(where, _, why)] = refused(data)
    assert where == f"lines[{data['lines'].index(sip)}]"
    assert why.startswith("busy_tone, max_silence_s: settings of modem lines only")


def test_a_configuration_with_them_round_trips_through_toml(demo_dict):
    data = with_analog(demo_dict, busy_tone="europe", max_silence_s=45, caller_id_region="dtmf")
    first = settings.from_dict(data)
    assert settings.from_toml(settings.to_toml(first)) == first


def test_the_driver_refuses_an_unknown_region_by_itself():
    with pytest.raises(ValueError, match="caller-ID region 'xx'"):
        ModemSettings(caller_id_region="xx")
