"""The forms' pure side (web/confdoc.py): form fields to configuration items, one item replaced in a
whole document, the engine's problems put beside the right fields, and the menu tree."""

from __future__ import annotations

import tomllib

from werkzeug.datastructures import MultiDict

from firmware import settings as settings_mod
from tests.e2e.boxes import box
from web import confdoc


def doc() -> dict:
    return tomllib.loads(box())


def test_a_menu_form_becomes_a_menu_and_replaces_the_old_one_in_place():
    form = MultiDict({"name": "main", "prompt": "menu", "option-1": "queue:desk", "option-#": " hangup ",
                      "option-2": "", "timeout_s": "4.5", "retries": "3", "invalid_prompt": "", "on_invalid": "repeat"})
    item = confdoc.merged(doc()["menus"][0], confdoc.menu_from_form(form))
    assert item["options"] == {"1": "queue:desk", "#": "hangup"}
    assert (item["timeout_s"], item["retries"], item["on_invalid"]) == (4.5, 3, "repeat")
    assert "invalid_prompt" not in item  # empty: the schema's default
    new, index = confdoc.replace(doc(), "menus", "main", item)
    assert index == 0 and len(new["menus"]) == 1
    settings = settings_mod.from_toml(confdoc.dump(new))  # the whole document is still valid
    assert settings.menu("main").options == {"1": "queue:desk", "#": "hangup"}
    assert doc()["menus"][0]["options"] == {"1": "queue:desk", "2": "message:bye"}  # the original is untouched


def test_text_that_is_not_a_number_goes_to_the_schema_which_refuses_it_beside_the_field():
    form = MultiDict({"name": "main", "prompt": "menu", "option-1": "queue:nowhere", "timeout_s": "soon"})
    new, index = confdoc.replace(doc(), "menus", "main", confdoc.merged(doc()["menus"][0], confdoc.menu_from_form(form)))
    try:
        settings_mod.from_toml(confdoc.dump(new))
    except settings_mod.SettingsError as exc:
        problems = exc.problems
    placed = confdoc.place(problems, "menus", index, "main")
    assert placed.at("timeout_s") and "number" in placed.at("timeout_s")[0] and "soon" in placed.at("timeout_s")[0]
    assert not placed.others


def test_reference_problems_are_placed_by_name_and_others_are_kept_apart():
    problems = [("menus.main.options.1", "queue:nowhere", "there is no queue 'nowhere'"),
                ("menus[0].retries", 99, "Input should be less than or equal to 10"),
                ("menus", "main", "name is used twice"),
                ("lines.gw.routes", "gone", "there is no menu of that name"),
                ("menus[1].timeout_s", -1, "too small")]
    placed = confdoc.place(problems, "menus", 0, "main")
    assert placed.at("options.1") == ["there is no queue 'nowhere' (given: queue:nowhere)"]
    assert placed.at("retries") == ["Input should be less than or equal to 10 (given: 99)"]
    assert placed.at("name") == ["name is used twice"]
    assert [p["key"] for p in placed.others] == ["lines.gw.routes", "menus[1].timeout_s"]
    hours = confdoc.place([("hours.weekly[1]", None, "close must be after open"),
                           ("hours.holidays[0]", "xmas", "Input should be a valid date")], "hours")
    assert hours.under("weekly[1]") == ["close must be after open"] and hours.under("holidays")


def test_queue_members_keep_their_order_and_blank_rows_are_skipped():
    form = MultiDict([("name", "desk"), ("member", "st2"), ("member", ""), ("member", "st1"), ("strategy", "linear"),
                      ("ring_timeout_s", "12"), ("record", "on")])
    item = confdoc.queue_from_form(form)
    assert item["operators"] == ["st2", "st1"] and item["ring_timeout_s"] == 12 and item["record"] is True
    assert confdoc.queue_from_form(MultiDict({"name": "desk"}))["record"] is False


def test_lines_hours_and_prompts_from_their_forms():
    line = confdoc.line_from_form(MultiDict({"name": "gw", "kind": "fxo_gateway", "allow": "10.0.0.5, 10.0.1.0/24\n",
                                             "device": "/dev/ttyACM0", "route_rows": "3", "route-0-number": "*",
                                             "route-0-day_menu": "main", "route-2-number": "200",
                                             "route-2-day_menu": "main", "route-2-night_menu": "night"}))
    assert line["allow"] == ["10.0.0.5", "10.0.1.0/24"] and line["device"] is None
    assert line["routes"] == [{"number": "*", "day_menu": "main"},
                              {"number": "200", "day_menu": "main", "night_menu": "night"}]
    hours = confdoc.hours_from_form(MultiDict({"timezone": "Europe/Berlin", "period_rows": "2", "period-0-mon": "on",
                                               "period-0-fri": "on", "period-0-open": "09:00",
                                               "period-0-close": "17:00", "holidays": "2026-12-25\n2026-12-26"}))
    assert hours["weekly"] == [{"days": ["mon", "fri"], "open": "09:00", "close": "17:00"}]
    assert hours["holidays"] == ["2026-12-25", "2026-12-26"]
    assert settings_mod.from_dict({"hours": hours}).hours.holidays[1].day == 26
    spoken = confdoc.prompt_from_form(MultiDict({"name": "hello", "source": "text", "text": "Hello there"}))
    assert spoken == {"name": "hello", "text": "Hello there", "voice": None}
    upload = confdoc.prompt_from_form(MultiDict({"name": "hello", "source": "file"}), "/data/prompt-uploads/ab.wav")
    assert upload == {"name": "hello", "file": "/data/prompt-uploads/ab.wav"}
    new, index = confdoc.replace(doc(), "prompts", "menu", {"name": "menu2", "tone_hz": 900})
    assert list(new["prompts"])[index] == "menu2" and "menu" not in new["prompts"]


def test_the_menu_tree_follows_routes_and_sub_menus_and_stops_at_loops():
    data = doc()
    data["menus"].append({"name": "more", "prompt": "menu", "options": {"9": "menu:main", "0": "hangup"}})
    data["menus"][0]["options"]["3"] = "menu:more"
    data["menus"].append({"name": "orphan", "prompt": "menu"})
    tree = confdoc.menu_tree(data)
    main = tree[0]["routes"][0]["day"]
    assert tree[0]["line"] == "gw" and main["name"] == "main"
    more = next(o for o in main["options"] if o["digit"] == "3")["menu"]
    assert more["name"] == "more" and more["options"][0]["menu"] == {"name": "main", "loop": True}
    assert [o["digit"] for o in more["options"]] == ["9", "0"]
    assert confdoc.unreached_menus(data) == ["orphan"]
    assert "menu:more" in confdoc.destination_choices(data) and "message:bye" in confdoc.destination_choices(data)
