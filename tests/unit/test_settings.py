import copy

import pytest

from firmware import settings
from firmware.settings import Line, SettingsError


@pytest.fixture
def demo_dict():
    return settings.demo().model_dump(mode="json", exclude_none=True)


def refused(data) -> list[tuple[str, object, str]]:
    with pytest.raises(SettingsError) as info:
        settings.from_dict(data)
    return info.value.problems


def changed(data, edit):
    data = copy.deepcopy(data)
    edit(data)
    return data


# --- the demo configuration -----------------------------------------------------------------------

def test_demo_is_valid_and_has_no_reference_problems():
    demo = settings.demo()
    assert list(demo.reference_problems()) == []
    assert demo.menu("main").options["1"] == "queue:front-desk"
    assert demo.queue("front-desk").operators == ["st1", "st2", "st3"]


def test_demo_round_trips_through_toml():
    demo = settings.demo()
    text = settings.to_toml(demo)
    again = settings.from_toml(text)
    assert again == demo
    assert settings.to_toml(again) == text


# --- unknown keys ---------------------------------------------------------------------------------

def test_unknown_nested_key_is_refused_with_its_path(demo_dict):
    problems = refused(changed(demo_dict, lambda d: d["sip"].update(colour="blue")))
    assert problems == [("sip.colour", "blue", "unknown key")]


def test_unknown_key_in_a_list_item_names_the_index(demo_dict):
    problems = refused(changed(demo_dict, lambda d: d["queues"][0].update(ring_forever=True)))
    assert problems == [("queues[0].ring_forever", True, "unknown key")]


def test_unknown_top_level_key_is_refused(demo_dict):
    assert refused(changed(demo_dict, lambda d: d.update(bogus=1))) == [("bogus", 1, "unknown key")]


# --- bad values -----------------------------------------------------------------------------------

def one_problem(data):
    problems = refused(data)
    assert len(problems) == 1, problems
    return problems[0]


def test_unknown_strategy(demo_dict):
    key, value, reason = one_problem(changed(demo_dict, lambda d: d["queues"][0].update(strategy="random")))
    assert (key, value) == ("queues[0].strategy", "random")
    assert "round_robin" in reason


@pytest.mark.parametrize("port", [0, 70000])
def test_port_out_of_range(demo_dict, port):
    key, value, reason = one_problem(changed(demo_dict, lambda d: d["sip"].update(port=port)))
    assert (key, value) == ("sip.port", port)
    assert "65535" in reason or "greater than or equal to 1" in reason


def test_bad_cidr_in_line_allow(demo_dict):
    key, value, reason = one_problem(changed(demo_dict, lambda d: d["lines"][0].update(allow=["10.0.0.0/33"])))
    assert (key, value) == ("lines[0].allow", ["10.0.0.0/33"])
    assert "10.0.0.0/33" in reason and "network" in reason


def test_period_closing_before_opening(demo_dict):
    period = {"days": ["mon"], "open": "17:00", "close": "09:00"}
    key, value, reason = one_problem(changed(demo_dict, lambda d: d["hours"].update(weekly=[period])))
    assert (key, value, reason) == ("hours.weekly[0]", period, "close must be after open")


def test_period_closing_when_it_opens(demo_dict):
    period = {"days": ["mon"], "open": "09:00", "close": "09:00"}
    assert one_problem(changed(demo_dict, lambda d: d["hours"].update(weekly=[period])))[2] == \
        "close must be after open"


def test_unknown_time_zone(demo_dict):
    problem = one_problem(changed(demo_dict, lambda d: d["hours"].update(timezone="Mars/Olympus")))
    assert problem == ("hours.timezone", "Mars/Olympus", "unknown time zone 'Mars/Olympus'")


@pytest.mark.parametrize("digit", ["12", "a", ""])
def test_menu_option_key_must_be_one_dtmf_digit(demo_dict, digit):
    key, value, reason = one_problem(changed(demo_dict, lambda d: d["menus"][0]["options"].update({digit: "hangup"})))
    assert key == "menus[0].options"
    assert value[digit] == "hangup"
    assert reason == f"option key {digit!r} is not a single DTMF digit"


def test_star_and_hash_are_valid_option_keys(demo_dict):
    data = changed(demo_dict, lambda d: d["menus"][0]["options"].update({"*": "repeat", "#": "hangup"}))
    assert settings.from_dict(data).menu("main").options["#"] == "hangup"


def test_sip_operator_needs_a_uri(demo_dict):
    alice = {"name": "alice", "kind": "sip"}
    key, value, reason = one_problem(changed(demo_dict, lambda d: d["operators"].append(alice)))
    assert (key, value) == ("operators[3]", alice)
    assert "needs uri" in reason


def test_sip_operator_with_a_uri_is_accepted(demo_dict):
    alice = {"name": "alice", "kind": "sip", "uri": "sip:alice@192.168.1.20:5060"}
    assert settings.from_dict(changed(demo_dict, lambda d: d["operators"].append(alice))).operator("alice").uri \
        == "sip:alice@192.168.1.20:5060"


def test_prompt_with_two_sources(demo_dict):
    beep = {"text": "hi", "tone_hz": 440}
    problem = one_problem(changed(demo_dict, lambda d: d["prompts"].update(beep=beep)))
    assert problem == ("prompts.beep", beep, "give exactly one of file, text, tone_hz")


def test_prompt_with_no_source(demo_dict):
    assert one_problem(changed(demo_dict, lambda d: d["prompts"].update(beep={"seconds": 2})))[0] == "prompts.beep"


def test_every_problem_is_listed_not_just_the_first(demo_dict):
    def edit(d):
        d["sip"]["port"] = 0
        d["hours"]["timezone"] = "Nowhere/Town"
    assert {key for key, _, _ in refused(changed(demo_dict, edit))} == {"sip.port", "hours.timezone"}


def test_error_message_names_key_value_and_reason(demo_dict):
    with pytest.raises(SettingsError) as info:
        settings.from_dict(changed(demo_dict, lambda d: d["hours"].update(timezone="Mars/Olympus")))
    assert str(info.value) == "hours.timezone = 'Mars/Olympus': unknown time zone 'Mars/Olympus'"


# --- references and names -------------------------------------------------------------------------

def test_option_to_an_undefined_queue(demo_dict):
    problem = one_problem(changed(demo_dict, lambda d: d["menus"][0]["options"].update({"3": "queue:nowhere"})))
    assert problem == ("menus.main.options.3", "queue:nowhere", "there is no queue 'nowhere'")


def test_route_to_an_undefined_menu(demo_dict):
    problem = one_problem(changed(demo_dict, lambda d: d["lines"][0]["routes"][0].update(night_menu="gone")))
    assert problem == ("lines.sip.routes", "gone", "there is no menu of that name")


def test_queue_member_that_is_not_an_operator(demo_dict):
    problem = one_problem(changed(demo_dict, lambda d: d["queues"][0]["operators"].append("bob")))
    assert problem == ("queues.front-desk.operators", "bob", "there is no operator of that name")


def test_undefined_prompts_are_named_where_they_are_used(demo_dict):
    def edit(d):
        d["menus"][0]["invalid_prompt"] = "nope"
        d["queues"][0]["music"] = "muzak"
        d["recording"]["disclosure_prompt"] = "legal"
        d["queues"][0]["fallback"] = "message:sorry"
    problems = refused(changed(demo_dict, edit))
    assert sorted(problems) == sorted([
        ("menus.main.invalid_prompt", "nope", "there is no prompt of that name"),
        ("queues.front-desk.music", "muzak", "there is no prompt of that name"),
        ("recording.disclosure_prompt", "legal", "there is no prompt of that name"),
        ("queues.front-desk.fallback", "message:sorry", "there is no message 'sorry'"),
    ])


def test_duplicate_names_are_refused(demo_dict):
    def edit(d):
        d["operators"].append(dict(d["operators"][0]))
        d["menus"].append(dict(d["menus"][1]))
    problems = refused(changed(demo_dict, edit))
    assert sorted(problems) == [("menus", "closed", "name is used twice"),
                                ("operators", "st1", "name is used twice")]


def test_invalid_toml_gives_a_clear_error():
    with pytest.raises(SettingsError) as info:
        settings.from_toml("[sip\nport = 5060\n")
    [(key, value, reason)] = info.value.problems
    assert key == "(file)" and value is None
    assert reason.startswith("not valid TOML: ")


def test_toml_with_a_bad_value_names_the_key():
    with pytest.raises(SettingsError) as info:
        settings.from_toml("[sip]\nport = 99999\n")
    assert [p[:2] for p in info.value.problems] == [("sip.port", 99999)]


# --- lines ----------------------------------------------------------------------------------------

def make_line(**kw):
    return Line(**{"name": "trunk", "allow": ["10.0.0.0/24", "192.168.1.5"],
                   "routes": [{"number": "*", "day_menu": "main"}, {"number": "200", "day_menu": "sales"}],
                   **kw})


def test_line_accepts_addresses_in_its_allow_list():
    line = make_line()
    assert line.accepts("10.0.0.7") and line.accepts("192.168.1.5")
    assert not line.accepts("10.0.1.7") and not line.accepts("192.168.1.6")


def test_line_route_exact_number_beats_star():
    line = make_line()
    assert line.route("200").day_menu == "sales"  # even though "*" comes first
    assert line.route("999").day_menu == "main"


def test_line_route_without_star_has_no_route_for_other_numbers():
    line = make_line(routes=[{"number": "200", "day_menu": "sales"}])
    assert line.route("200").day_menu == "sales"
    assert line.route("201") is None
