"""Reading and changing one configuration value by its key, for the console and the command line:
`queues.front-desk.ring_timeout_s` (a named item of a list) or `queues[0].ring_timeout_s`."""

from __future__ import annotations

import re
import tomllib

PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parts(key: str) -> list[str | int]:
    found = [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in PART.finditer(key)]
    if not found:
        raise KeyError(f"{key!r} is not a configuration key")
    return found


def _step(node, part, key: str):
    """The child of `node` for `part`: a dict key, a list index, or the list item with that name."""
    if isinstance(node, dict) and isinstance(part, str):
        return part
    if isinstance(node, list):
        if isinstance(part, int) and part < len(node):
            return part
        for i, item in enumerate(node):
            if isinstance(item, dict) and item.get("name") == part:
                return i
    raise KeyError(f"{key!r}: nothing at {part!r}")


def get(data: dict, key: str):
    node = data
    for part in parts(key):
        index = _step(node, part, key)
        if isinstance(node, dict) and index not in node:
            raise KeyError(f"{key!r} is not set")
        node = node[index]
    return node


def set_value(data: dict, key: str, text: str) -> None:
    """Set `key` to `text` read as a TOML value (a number, true/false, "quoted", [list]); anything
    that is not valid TOML is taken as a plain string."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    *path, last = parts(key)
    node = data
    for part in path:
        index = _step(node, part, key)
        if isinstance(node, dict):
            node = node.setdefault(index, {})
        else:
            node = node[index]
    node[_step(node, last, key) if isinstance(node, list) else last] = value
