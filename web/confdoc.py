"""The configuration as the forms see it: a TOML document as a dict, one section item replaced by what a
form posted, and the engine's problems put back next to the form's fields.

Pure functions only (no Flask, no engine): the forms build a whole new document from the stored one,
send it as one configuration (validated by the settings schema in the engine, saved in one
transaction, then applied), and show each refusal beside the field it is about.
"""

from __future__ import annotations

import copy
import hashlib
import re
import tomllib
from dataclasses import dataclass, field

import tomli_w

DIGITS = tuple("123456789*0#")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STRATEGIES = ("ring_all", "linear", "round_robin", "longest_idle", "fewest_calls")
LINE_KINDS = ("sip_trunk", "fxo_gateway", "modem")
LIST_SECTIONS = ("lines", "menus", "queues", "operators", "mailboxes")
_INDEX = re.compile(r"^\[(\d+)\]")


def load(text: str | None) -> dict:
    return tomllib.loads(text) if text else {}


def dump(doc: dict) -> str:
    return tomli_w.dumps(_prune(doc))


def _prune(value):
    """None means 'not set' in a form; TOML has no null, so such keys are left out."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value if v is not None]
    return value


# --- values from form fields ----------------------------------------------------------------------

def text(value: str | None) -> str | None:
    """A text field: stripped; empty is None (the schema's default applies)."""
    value = (value or "").strip()
    return value or None


def number(value: str | None):
    """A number field: an int or float when it reads as one, None when empty, else the text itself
    (the schema then refuses it with its own message, shown beside the field)."""
    value = (value or "").strip()
    if not value:
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def words(value: str | None) -> list[str]:
    """A list typed as text: items separated by commas, spaces or new lines."""
    return [w for w in re.split(r"[\s,]+", value or "") if w]


# --- the items of a section -----------------------------------------------------------------------

def items(doc: dict, section: str) -> list[dict]:
    if section == "prompts":
        return [{"name": name, **p} for name, p in doc.get("prompts", {}).items()]
    return list(doc.get(section, []))


def find(doc: dict, section: str, name: str) -> tuple[int, dict] | None:
    """(index, item) of the named item, or None."""
    for i, item in enumerate(items(doc, section)):
        if item.get("name") == name:
            return i, item
    return None


def replace(doc: dict, section: str, old_name: str | None, item: dict) -> tuple[dict, int]:
    """A copy of `doc` with the item `old_name` replaced by `item` (appended when old_name is None);
    also returns the item's index. Renaming a prompt keeps its place in the table."""
    new = copy.deepcopy(doc)
    if section == "prompts":
        body = {k: v for k, v in item.items() if k != "name"}
        prompts = {}
        for name, p in new.get("prompts", {}).items():
            prompts[item["name"] if name == old_name else name] = body if name == old_name else p
        if old_name is None or old_name not in new.get("prompts", {}):
            prompts[item["name"]] = body
        new["prompts"] = prompts
        return new, list(prompts).index(item["name"])
    rows = new.setdefault(section, [])
    for i, row in enumerate(rows):
        if old_name is not None and row.get("name") == old_name:
            rows[i] = item
            return new, i
    rows.append(item)
    return new, len(rows) - 1


def remove(doc: dict, section: str, name: str) -> dict:
    new = copy.deepcopy(doc)
    if section == "prompts":
        new.get("prompts", {}).pop(name, None)
    else:
        new[section] = [row for row in new.get(section, []) if row.get("name") != name]
    return new


def merged(old: dict, updates: dict) -> dict:
    """The old item with what the form covers replaced; keys the form left empty (None) are dropped,
    so the schema's default applies; keys the form does not know are kept as they were."""
    out = {k: v for k, v in old.items() if k not in updates}
    out.update({k: v for k, v in updates.items() if v is not None})
    return out


# --- forms -> items -------------------------------------------------------------------------------

def menu_from_form(form) -> dict:
    options = {}
    for digit in DIGITS:
        dest = text(form.get(f"option-{digit}"))
        if dest:
            options[digit] = dest
    return {
        "name": text(form.get("name")), "prompt": text(form.get("prompt")), "options": options,
        "timeout_s": number(form.get("timeout_s")), "retries": number(form.get("retries")),
        "invalid_prompt": text(form.get("invalid_prompt")), "noinput_prompt": text(form.get("noinput_prompt")),
        "on_invalid": text(form.get("on_invalid")), "on_noinput": text(form.get("on_noinput")),
    }


def queue_from_form(form) -> dict:
    order = [text(v) for v in form.getlist("member")]
    return {
        "name": text(form.get("name")), "operators": [m for m in order if m],
        "strategy": text(form.get("strategy")),
        **{k: number(form.get(k)) for k in ("ring_timeout_s", "retry_delay_s", "wrapup_s", "max_wait_s",
                                             "max_callers", "announce_every_s", "autopause_after")},
        "fallback": text(form.get("fallback")), "when_no_operator": text(form.get("when_no_operator")),
        "music": text(form.get("music")), "record": form.get("record") == "on",
    }


def operator_from_form(form) -> dict:
    kind = text(form.get("kind"))
    return {
        "name": text(form.get("name")), "kind": kind, "uri": text(form.get("uri")) if kind == "sip" else None,
        "username": text(form.get("username")) if kind == "sip" else None,
        "login": text(form.get("login")), "auto_answer_s": number(form.get("auto_answer_s")),
        "voice": text(form.get("voice")),
    }


MIN_SIP_PASSWORD = 8  # as `switchboard edge password`
DEFAULT_REALM = "switchboard"  # edge.realm's default (firmware.settings, which the web does not import)


def ha1(username: str, realm: str, password: str) -> str:
    """Digest HA1 (RFC 2617), as firmware.edge.credentials makes it: MD5 of user:realm:password."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


def sip_password(form, old: dict, item: dict, realm: str, ha1) -> dict[str, list[str]]:
    """The operator form's SIP password (typed twice) as digest HA1 in `item`, like `switchboard edge
    password`; or the problems by field, and then nothing is to be saved. A phone whose user name
    changes needs its password again (the HA1 includes the user name); leaving the password empty
    otherwise keeps the stored one. `ha1(username, realm, password)` makes the digest."""
    password, again = form.get("sip_password", ""), form.get("sip_password_again", "")
    if item.get("kind") != "sip" or not item.get("username"):
        item.pop("ha1", None)  # a station, or a phone at a static URI: no account at the edge
        return {"sip_password": ["Only a SIP phone with a user name registers with a password."]} if password else {}
    if not password and not again:
        if old.get("ha1") and old.get("username") != item["username"]:
            return {"sip_password": ["The user name changed: type the phone's password again."]}
        return {}
    if len(password) < MIN_SIP_PASSWORD:
        return {"sip_password": [f"A SIP password needs {MIN_SIP_PASSWORD} characters or more."]}
    if password != again:
        return {"sip_password_again": ["The two passwords differ."]}
    item["ha1"] = ha1(item["username"], realm, password)
    return {}


def mailbox_from_form(form) -> dict:
    return {"name": text(form.get("name")), "greeting": text(form.get("greeting")),
            "max_message_s": number(form.get("max_message_s"))}


def line_from_form(form) -> dict:
    kind = text(form.get("kind"))
    routes = []
    rows = form.get("route_rows", "")
    for i in range(int(rows) if rows.isdigit() else 0):
        row = {k: text(form.get(f"route-{i}-{k}")) for k in ("number", "greeting", "day_menu", "night_menu")}
        if any(row.values()):
            routes.append({k: v for k, v in row.items() if v is not None})
    return {
        "name": text(form.get("name")), "kind": kind,
        "allow": words(form.get("allow")) if kind != "modem" else None,
        "device": text(form.get("device")) if kind == "modem" else None,
        "answer_after_rings": number(form.get("answer_after_rings")) if kind == "modem" else None,
        "routes": routes,
    }


def hours_from_form(form) -> dict:
    weekly = []
    rows = form.get("period_rows", "")
    for i in range(int(rows) if rows.isdigit() else 0):
        days = [d for d in DAYS if form.get(f"period-{i}-{d}") == "on"]
        opens, closes = text(form.get(f"period-{i}-open")), text(form.get(f"period-{i}-close"))
        if days or opens or closes:
            weekly.append({"days": days, "open": opens or "", "close": closes or ""})
    return {"timezone": text(form.get("timezone")), "weekly": weekly, "holidays": words(form.get("holidays"))}


def prompt_from_form(form, uploaded: str | None = None) -> dict:
    """What a prompt is made from: a typed text, an uploaded file (its stored path), or a tone."""
    source = form.get("source")
    item = {"name": text(form.get("name"))}
    if source == "text":
        item.update(text=text(form.get("text")) or "", voice=text(form.get("voice")))
    elif source == "file":
        item["file"] = uploaded or text(form.get("file")) or ""
    elif source == "tone":
        item.update(tone_hz=number(form.get("tone_hz")), seconds=number(form.get("seconds")))
    return item


# --- problems -> fields ---------------------------------------------------------------------------

@dataclass
class Placed:
    """The engine's problems sorted: by form field (the part of the key after the item), and the rest."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    others: list[dict] = field(default_factory=list)

    def at(self, key: str) -> list[str]:
        return self.fields.get(key, [])

    def under(self, prefix: str) -> list[str]:
        """Problems of a field or of anything inside it (e.g. a whole route row)."""
        return [m for k, msgs in self.fields.items() if k == prefix or k.startswith(prefix + ".")
                or k.startswith(prefix + "[") for m in msgs]

    def __bool__(self) -> bool:
        return bool(self.fields or self.others)


def place(problems, section: str, index: int | None = None, name: str | None = None) -> Placed:
    """Sort (key, value, reason) problems into the fields of one item of `section` (its index in the
    list and its name, as schema errors use the one and reference errors the other) and the rest."""
    placed = Placed()
    prefixes = [section] if index is None and name is None else []
    if index is not None:
        prefixes.append(f"{section}[{index}]")
    if name is not None:
        prefixes.append(f"{section}.{name}")
    for key, value, reason in problems:
        where = _field_of(key, value, prefixes, section, name)
        message = f"{reason}" + (f" (given: {value})" if value not in (None, "", [], {}) and where != "name"
                                 and not isinstance(value, (dict, list)) else "")
        if where is None:
            placed.others.append({"key": key, "value": value, "reason": reason})
        else:
            placed.fields.setdefault(where, []).append(message)
    return placed


def _field_of(key: str, value, prefixes: list[str], section: str, name: str | None) -> str | None:
    if key == section and name is not None and value == name:
        return "name"  # the name is used twice
    for prefix in prefixes:
        if key == prefix:
            return "_item"
        if key.startswith(prefix + ".") or key.startswith(prefix + "["):
            rest = key[len(prefix):].lstrip(".")
            return rest or "_item"
    return None


# --- the menu tree --------------------------------------------------------------------------------

def destination_choices(doc: dict) -> list[str]:
    """Every destination the configuration can name (for the forms' suggestion lists)."""
    out = [f"menu:{m['name']}" for m in doc.get("menus", [])]
    out += [f"queue:{q['name']}" for q in doc.get("queues", [])]
    out += [f"operator:{o['name']}" for o in doc.get("operators", [])]
    out += [f"message:{p}" for p in doc.get("prompts", {})]
    out += [f"voicemail:{m['name']}" for m in doc.get("mailboxes", [])]
    return out + ["repeat", "hangup"]


def menu_tree(doc: dict) -> list[dict]:
    """Lines -> routes -> menus -> options, with sub-menus nested (a menu already shown higher up the
    same branch is shown as a reference, so loops end)."""
    menus = {m.get("name"): m for m in doc.get("menus", [])}

    def node(name: str, seen: frozenset) -> dict:
        menu = menus.get(name)
        if menu is None:
            return {"name": name, "missing": True}
        if name in seen:
            return {"name": name, "loop": True}
        seen = seen | {name}
        options = []
        for digit, dest in sorted(menu.get("options", {}).items(), key=lambda kv: DIGITS.index(kv[0])
                                  if kv[0] in DIGITS else 99):
            kind, _, target = dest.partition(":")
            options.append({"digit": digit, "dest": dest, "menu": node(target, seen) if kind == "menu" else None})
        return {"name": name, "prompt": menu.get("prompt"), "options": options,
                "on_invalid": menu.get("on_invalid", "hangup"), "on_noinput": menu.get("on_noinput", "hangup")}

    tree, reached = [], set()
    for line in doc.get("lines", []):
        routes = []
        for route in line.get("routes", []):
            day = route.get("day_menu")
            night = route.get("night_menu")
            reached.update(n for n in (day, night) if n)
            routes.append({"number": route.get("number", "*"), "greeting": route.get("greeting"),
                           "day": node(day, frozenset()) if day else None,
                           "night": node(night, frozenset()) if night and night != day else None})
        tree.append({"line": line.get("name"), "kind": line.get("kind", "sip_trunk"), "routes": routes})
    return tree


def unreached_menus(doc: dict) -> list[str]:
    """Menus no route and no other menu leads to (kept, but no caller hears them)."""
    led_to = set()
    for line in doc.get("lines", []):
        for route in line.get("routes", []):
            led_to.update(n for n in (route.get("day_menu"), route.get("night_menu")) if n)
    for menu in doc.get("menus", []):
        for dest in [*menu.get("options", {}).values(), menu.get("on_invalid", ""), menu.get("on_noinput", "")]:
            if dest.startswith("menu:"):
                led_to.add(dest[5:])
    return [m["name"] for m in doc.get("menus", []) if m.get("name") not in led_to]
