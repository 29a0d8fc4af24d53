"""One configuration value by key: named list items, indexes, TOML values, clear errors."""

from __future__ import annotations

import pytest

from firmware import config_paths, settings


def demo() -> dict:
    return settings.demo().model_dump(mode="json")


def test_get_by_item_name_and_by_index():
    data = demo()
    assert config_paths.get(data, "queues.front-desk.ring_timeout_s") == 15
    assert config_paths.get(data, "queues[0].operators") == ["st1", "st2", "st3"]
    assert config_paths.get(data, "sip.port") == 5060


def test_set_reads_toml_values_and_plain_text():
    data = demo()
    config_paths.set_value(data, "queues.front-desk.ring_timeout_s", "25")
    config_paths.set_value(data, "queues.front-desk.strategy", "linear")
    config_paths.set_value(data, "callers.priority", '["5551234"]')
    config_paths.set_value(data, "operators.st1.login", '"logged_out"')
    new = settings.from_dict(data)
    assert new.queue("front-desk").ring_timeout_s == 25 and new.queue("front-desk").strategy == "linear"
    assert new.callers.priority == ["5551234"] and new.operator("st1").login == "logged_out"


def test_unknown_items_are_clear_errors():
    with pytest.raises(KeyError, match="nothing at 'nope'"):
        config_paths.get(demo(), "queues.nope.ring_timeout_s")
    with pytest.raises(KeyError, match="not set"):
        config_paths.get(demo(), "sip.nothing")
