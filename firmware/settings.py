"""The one typed settings schema of the box.

A configuration is a TOML document; it is validated here, field by field, before it is stored or
applied. Unknown keys are errors. `SettingsError` carries, for each problem, the key, the value and
the reason, so the web admin, the console and `switchboard config import` can show them as they are.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import tomllib
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from drivers.panel.pinmap import PinMap

NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"
Name = Annotated[str, Field(pattern=NAME)]
Seconds = Annotated[float, Field(ge=0, le=86400)]


class SettingsError(ValueError):
    """A configuration that was refused; `problems` is a list of (key, value, reason)."""

    def __init__(self, problems: list[tuple[str, object, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{k} = {v!r}: {r}" for k, v, r in problems))


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# --- Destinations ---------------------------------------------------------------------------------

DESTINATION = re.compile(r"^(menu|queue|operator|message|voicemail):([a-z0-9][a-z0-9_-]*)$|^(repeat|hangup)$")


def parse_destination(text: str) -> tuple[str, str]:
    """'queue:front-desk' -> ('queue', 'front-desk'); 'repeat' -> ('repeat', '')."""
    kind, _, target = text.partition(":")
    return kind, target


Destination = Annotated[
    str,
    Field(
        pattern=DESTINATION.pattern,
        description="menu:NAME, queue:NAME, operator:NAME, message:PROMPT (play, then hang up), "
                    "voicemail:MAILBOX, repeat, hangup",
    ),
]


# --- Prompts --------------------------------------------------------------------------------------


class Prompt(Model):
    """Something the box plays: exactly one of a WAV file, a text spoken by espeak-ng, or a tone."""

    file: str | None = None
    """Path of a WAV file (any rate; converted to 8 kHz mono when the configuration is saved)."""
    text: str | None = Field(default=None, max_length=2000)
    """Text turned into speech with espeak-ng when the configuration is saved (cached)."""
    tone_hz: float | None = Field(default=None, ge=100, le=3800)
    """A plain sine tone of this frequency (beeps, tests, diagnostics)."""
    seconds: float = Field(default=1.0, gt=0, le=600)
    """Length of a tone prompt."""
    voice: str = "en-us"
    """espeak-ng voice for text prompts."""

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("file", "text", "tone_hz") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of file, text, tone_hz")
        return self


# --- Lines ----------------------------------------------------------------------------------------


class Route(Model):
    """Which IVR menu a dialled number reaches, by day and by night."""

    number: str = "*"
    """The dialled number (the request URI's user part); "*" matches any number."""
    greeting: Name | None = None
    """Prompt played first, before the recording disclosure and the menu."""
    day_menu: Name
    """Menu used within business hours."""
    night_menu: Name | None = None
    """Menu used outside business hours (defaults to the day menu)."""


MODEM_SUPERVISION = ("busy_tone", "busy_tone_cycles", "max_silence_s", "max_call_s", "caller_id_region")


class Line(Model):
    """A phone line: a SIP trunk or an FXO gateway, reached by SIP, or an analog line on a voice modem."""

    name: Name
    """Unique name of the line (lower case letters, digits, - and _)."""
    kind: Literal["sip_trunk", "fxo_gateway", "modem"] = "sip_trunk"
    """sip_trunk (a SIP provider), fxo_gateway (an analog line behind a SIP gateway), or modem (an
    analog line on a USB voice modem of the box)."""
    allow: list[str] = []
    """SIP lines: addresses (IP or CIDR) whose INVITEs are accepted on this line; all others get 403."""
    device: str | None = None
    """Modem lines: the serial device, e.g. /dev/ttyACM0 or a stable udev name (in simulation a
    simulated modem is used whatever this says)."""
    answer_after_rings: int = Field(default=2, ge=1, le=10)
    """Modem lines: answer after this many rings (caller ID arrives between the first two)."""
    outgoing: bool = False
    """May the box dial out on this line (queue callbacks)? SIP lines also need dial_uri."""
    dial_uri: str | None = None
    """SIP lines: where outgoing calls go, {number} standing for the number dialled, e.g.
    sip:{number}@192.168.1.30:5060 (the trunk's or the FXO gateway's address)."""
    channels: int = Field(default=1, ge=1, le=1000)
    """How many calls the line carries at once (an analog line: 1); the box dials out only on a line
    with a channel free."""
    busy_tone: Literal["north_america", "europe", "uk"] = "north_america"
    """Modem lines: the exchange's busy tone, which on most analog lines is the only sign that the
    caller hung up: north_america (480+620 Hz, 0.5 s on, 0.5 s off), europe (425 Hz, 0.5 s on/off),
    uk (400 Hz, 0.375 s on/off)."""
    busy_tone_cycles: int = Field(default=4, ge=0, le=20)
    """Modem lines: hang up after this many on/off cycles of busy tone in the caller's audio (0 = never;
    at least 2, since fewer can mistake speech for it; raise it if calls end falsely)."""
    max_silence_s: Seconds = 120.0
    """Modem lines: hang up when the caller's side stays silent this long (0 = never; at least 5 s)."""
    max_call_s: Seconds = 3600.0
    """Modem lines: end any call after this long (0 = no limit; at least 60 s)."""
    caller_id_region: Literal["default", "bell", "etsi", "uk", "dtmf"] = "default"
    """Modem lines: the caller-ID standard of the line, for modems that can be told (Conexant firmware
    with AT!4886): bell (North American FSK), etsi (European FSK), uk (BT, V.23 FSK), dtmf (DTMF
    before the first ring, e.g. Nordic countries, India); default leaves the modem's own (nearly
    always bell). Other modems refuse it and decode only their default; `switchboard line NAME` shows
    the raw caller-ID report and whether the modem took the region."""
    routes: list[Route] = Field(min_length=1)
    """Which menu each dialled number reaches; an exact number wins over "*"."""

    @field_validator("busy_tone_cycles")
    @classmethod
    def _cycles(cls, value: int) -> int:
        if value == 1:
            raise ValueError("1 busy-tone cycle is too few: speech can look like one (0 turns the guard off)")
        return value

    @field_validator("max_silence_s")
    @classmethod
    def _silence(cls, value: float) -> float:
        if 0 < value < 5:
            raise ValueError("under 5 s, pauses in speech would end calls (0 turns the guard off)")
        return value

    @field_validator("max_call_s")
    @classmethod
    def _call_length(cls, value: float) -> float:
        if 0 < value < 60:
            raise ValueError("a maximum call length under 60 s would cut ordinary calls (0: no limit)")
        return value

    @field_validator("allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # raises ValueError with a clear message
        return value

    @model_validator(mode="after")
    def _kind_fields(self):
        if self.kind == "modem" and not self.device:
            raise ValueError('a modem line needs device = "/dev/ttyACM0" (or its udev name)')
        if self.kind != "modem" and not self.allow:
            raise ValueError("a SIP line needs allow = [the addresses its calls come from]")
        if self.kind == "modem" and self.channels != 1:
            raise ValueError("a modem line carries one call: channels = 1")
        if self.kind != "modem" and self.outgoing and not self.dial_uri:
            raise ValueError('an outgoing SIP line needs dial_uri = "sip:{number}@host[:port]"')
        if self.dial_uri is not None and not re.match(r"^sips?:[^@\s]*\{number\}[^@\s]*@[^@\s]+$", self.dial_uri):
            raise ValueError('dial_uri must look like "sip:{number}@host[:port]"')
        changed = [f for f in MODEM_SUPERVISION if getattr(self, f) != type(self).model_fields[f].default]
        if self.kind != "modem" and changed:
            raise ValueError(f"{', '.join(changed)}: settings of modem lines only (a {self.kind} line's "
                             "gateway or provider supervises its calls)")
        return self

    def accepts(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(a, strict=False) for a in self.allow)

    def route(self, number: str) -> Route | None:
        exact = [r for r in self.routes if r.number == number]
        return (exact or [r for r in self.routes if r.number == "*"] or [None])[0]


# --- IVR ------------------------------------------------------------------------------------------


class Menu(Model):
    """One IVR menu: a prompt, then a digit chooses a destination."""

    name: Name
    """Unique name of the menu, used in routes and in menu:NAME destinations."""
    prompt: Name
    """Prompt played when the menu starts (and on repeat)."""
    options: dict[str, Destination] = {}
    """Digit -> destination."""
    timeout_s: Seconds = 5.0
    """How long to wait for a digit after the prompt ends."""
    retries: int = Field(default=2, ge=0, le=10)
    """How many times the menu is tried again after invalid input or no input."""
    invalid_prompt: Name | None = None
    """Played after a digit that is not an option."""
    noinput_prompt: Name | None = None
    """Played when no digit came within the timeout."""
    on_invalid: Destination = "hangup"
    """Where the caller goes when the retries are used up by invalid input."""
    on_noinput: Destination = "hangup"
    """Where the caller goes when the retries are used up with no input."""

    @field_validator("options")
    @classmethod
    def _digits(cls, value: dict[str, str]) -> dict[str, str]:
        for digit in value:
            if digit not in "0123456789*#" or len(digit) != 1:
                raise ValueError(f"option key {digit!r} is not a single DTMF digit")
        return value


class Period(Model):
    """Open hours on some days of the week, e.g. days = ["mon", "tue"], open = "09:00", close = "17:00"."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1)
    """Days of the week this period applies to: mon, tue, wed, thu, fri, sat, sun."""
    open: dt.time
    """Opening time (HH:MM, local time of the hours' time zone)."""
    close: dt.time
    """Closing time (HH:MM, local time); must be after the opening time."""

    @model_validator(mode="after")
    def _order(self):
        if self.close <= self.open:
            raise ValueError("close must be after open")
        return self


class Hours(Model):
    """Business hours; outside them, routes use their night menu."""

    timezone: str = "UTC"
    """IANA time zone name of the office, e.g. Europe/Berlin."""
    weekly: list[Period] = []
    """Open periods; an empty list means always open."""
    holidays: list[dt.date] = []
    """Dates on which the office is closed all day."""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


# --- Queues and operators -------------------------------------------------------------------------


class Strategy(str, Enum):
    ring_all = "ring_all"
    round_robin = "round_robin"
    longest_idle = "longest_idle"
    fewest_calls = "fewest_calls"
    linear = "linear"


class Callback(Model):
    """Queue callback: a waiting caller presses 1 to be called back and keeps their place."""

    enabled: bool = False
    """Offer callback to callers of this queue."""
    offer_after_s: Seconds = 60.0
    """Offer it once the caller has waited this long."""
    offer_if_wait_over_s: Seconds = 180.0
    """Offer it at once when the estimated wait on joining is longer than this."""
    attempts: int = Field(default=3, ge=1, le=10)
    """How many times the box tries to reach the caller."""
    spacing_s: Seconds = 300.0
    """Time between two attempts."""
    ring_s: Seconds = Field(default=30.0, gt=0)
    """How long a callback rings the caller before the attempt counts as unanswered."""
    give_up_after_s: Seconds = 14400.0
    """A callback not reached this long after it was asked for is given up (the caller goes on the
    worklist)."""
    in_hours_only: bool = True
    """Dial callbacks only within business hours."""


class Queue(Model):
    """A hunt group: callers wait here with music until an operator answers."""

    name: Name
    """Unique name of the queue, used in queue:NAME destinations."""
    operators: list[Name] = Field(min_length=1)
    """Members, in order (the order matters for linear and round robin)."""
    strategy: Strategy = Strategy.ring_all
    """Hunt strategy: ring_all, linear, round_robin, longest_idle or fewest_calls."""
    ring_timeout_s: Seconds = 20.0
    """How long one attempt rings an operator before moving on."""
    retry_delay_s: Seconds = 2.0
    """Pause after an unanswered attempt before ringing again."""
    wrapup_s: Seconds = 10.0
    """After a call, the operator is left alone this long."""
    max_wait_s: Seconds = 300.0
    """After this long in the queue the caller goes to the fall-back destination."""
    fallback: Destination = "hangup"
    max_callers: int = Field(default=10, ge=1, le=500)
    """Callers beyond this go straight to the fall-back destination."""
    when_no_operator: Literal["join", "fallback"] = "join"
    """When no operator is logged in: wait anyway, or go to the fall-back at once."""
    music: Name | None = None
    """Prompt looped as music on hold (one shared player for every caller)."""
    announce_every_s: Seconds = 0.0
    """Announce position and estimated wait this often (0 = never)."""
    record: bool = True
    """Record connected calls of this queue."""
    autopause_after: int = Field(default=3, ge=0, le=100)
    """Pause an operator after this many missed calls in a row (0 = never)."""
    callback: Callback = Callback()
    """Queue callback: offered to waiting callers, dialled when an operator and a line are free."""


class Operator(Model):
    """An operator: a SIP phone at a static URI, or a headset station on the box."""

    name: Name
    """Unique name of the operator, used in queues and operator:NAME destinations."""
    kind: Literal["sip", "station"]
    """sip (a SIP phone at a static URI) or station (a headset station on the box)."""
    uri: str | None = None
    """SIP URI for kind = "sip", e.g. sip:alice@192.168.1.20:5060."""
    auto_answer_s: float | None = Field(default=None, ge=0, le=120)
    """Simulated stations only: answer by themselves after this many seconds."""
    voice: Name | None = None
    """Simulated stations only: prompt the station 'says' (looped) while on a call."""
    headset: str | None = Field(default=None, max_length=64)
    """Stations: the USB headset, by ALSA card id (e.g. "Headset", see /proc/asound/cards) or USB
    port (e.g. "1-1.3", or "usb-0000:01:00.0-1.3"), never by card number. Simulation: a simulated
    headset named after the station."""
    login: Literal["ready", "logged_out"] = "ready"
    """State at start-up."""
    username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,32}$")
    """kind = "sip" with the edge: the user name this operator's phone registers with (digest
    authentication at the edge); the phone rings wherever it registered. Set the password with
    `switchboard edge password NAME`."""
    ha1: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    """The phone's password as digest HA1, MD5(username:realm:password), written by `switchboard
    edge password`; the password itself is never stored. Invalid once edge.realm changes."""

    @model_validator(mode="after")
    def _uri(self):
        if self.kind == "sip" and self.uri is None and self.username:
            return self  # a registering phone: reached through the edge's registrar
        if self.kind == "sip" and not (self.uri and re.match(r"^sips?:[^@\s]+@[^@\s]+$", self.uri)):
            raise ValueError("a sip operator needs uri = \"sip:user@host[:port]\" (or a username to register with)")
        return self

    @property
    def dial_uri(self) -> str:
        """Where the engine sends this operator's calls: the static URI, or the registered phone's
        address of record, which the edge's registrar resolves."""
        return self.uri or f"sip:{self.username}@{REGISTERED_DOMAIN}"


class Mailbox(Model):
    """A voicemail box: callers hear its greeting, then leave a message after the beep."""

    name: Name
    """Unique name of the mailbox, used in voicemail:NAME destinations."""
    greeting: Name | None = None
    """Prompt played before the beep (uploaded audio or text); a standard greeting if unset."""
    max_message_s: float = Field(default=120.0, ge=5, le=86400)  # not Seconds: its ge=0 would win over ge=5
    """Longest message; the recording stops after this."""


class Outbound(Model):
    """What the box may dial (callbacks): the toll-fraud limits."""

    allow: list[str] = [r"0[1-9][0-9]{5,12}", r"[1-9][0-9]{4,12}"]
    """Numbers the box may dial, as regular expressions matched against the whole number (by default
    national and local numbers; no 00 international, no premium prefixes unless added here)."""
    deny: list[str] = [r"00.*", r"\+.*", r"09.*", r"190.*", r"11[0-9]", r"911", r"999"]
    """Numbers never dialled even if allowed (international, premium-rate, emergency: a callback
    must never call the emergency services); checked first."""
    max_per_hour: int = Field(default=30, ge=0, le=10000)
    """At most this many outgoing calls per hour; beyond it the box stops dialling and raises an
    alert."""

    @field_validator("allow", "deny")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value


class Recording(Model):
    disclosure_prompt: Name | None = None
    """Played to every caller before the first menu (recording disclosure)."""
    min_free_mb: float = Field(default=50.0, ge=0, le=100000)
    """Free space (MB) kept on the recordings' disk: below it recordings stop (calls go on), the owner is
    alerted in `switchboard status` and `switchboard log`, and new calls are not recorded until space is back."""
    keep_days: int = Field(default=0, ge=0, le=36500)
    """Delete recordings older than this many days (0 = keep them whatever their age)."""
    max_total_mb: int = Field(default=0, ge=0, le=10_000_000)
    """Delete the oldest recordings while all of them together take more than this (MB; 0 = no limit)."""
    keep_free_mb: int = Field(default=0, ge=0, le=10_000_000)
    """Delete the oldest recordings while the disk has less free space than this (MB; 0 = no limit);
    set it above min_free_mb so that old recordings make room before new ones stop."""


class Callers(Model):
    priority: list[str] = []
    """Caller numbers that go ahead of other callers in every queue."""


class Sip(Model):
    port: int = Field(default=5060, ge=1, le=65535)
    """UDP port the SIP transport listens on."""
    address: str = "0.0.0.0"
    """Address the SIP transport binds to."""
    public_address: str | None = None
    """Address put in Contact/SDP if it differs from the bound one."""
    max_calls: int | None = Field(default=None, ge=1, le=10000)
    """At most this many SIP calls at once (a caller and a SIP operator use one each); default and
    upper bound: what the pjsua2 build allows."""


REGISTERED_DOMAIN = "registered.invalid"  # host part of registered operators' AOR (the edge resolves it)

SCANNER_AGENTS = ["friendly-scanner", "sipvicious", "sipcli", "sip-scan", "sipscan", "VaxSIPUserAgent",
                  "iWar", "SIVuS", "sundayddr", "smap", "pplsip"]


class Edge(Model):
    """The SIP edge: Kamailio on the box's SIP port (sip.address, sip.port) in front of the engine,
    which then listens on loopback only. Registrar with digest authentication for operators' phones,
    sanity checks, flood and scanner bans; lines are still accepted by their source address."""

    engine_port: int = Field(default=5070, ge=0, le=65535)
    """Loopback UDP port of the engine behind the edge (0: any free port, chosen at start)."""
    internal_port: int = Field(default=5062, ge=0, le=65535)
    """Loopback UDP port on which the edge talks to the engine (0: any free port, chosen at start)."""
    realm: str = Field(default="switchboard", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    """Digest authentication realm; changing it invalidates every stored password (HA1)."""
    register_expires_s: int = Field(default=300, ge=60, le=3600)
    """Phones re-register at least this often (the registrar's maximum expiry)."""
    flood_requests: int = Field(default=40, ge=2, le=10000)
    """More requests than this from one address within flood_window_s is a flood: the address is banned."""
    flood_window_s: int = Field(default=2, ge=1, le=60)
    """The flood detector's sampling window."""
    ban_after_failures: int = Field(default=5, ge=1, le=1000)
    """Wrong passwords, unknown users and refused calls from one address within failure_window_s
    before the address is banned."""
    failure_window_s: int = Field(default=600, ge=10, le=86400)
    """How long a failure counts towards a ban."""
    ban_s: int = Field(default=600, ge=10, le=86400)
    """How long a banned address is ignored (no answer at all)."""
    scanner_agents: list[str] = SCANNER_AGENTS
    """User-Agent fragments of known SIP scanners (case does not matter): refused and banned."""
    trusted: list[str] = []
    """Addresses (IP or CIDR) never banned, besides the lines' allow lists (which are trusted too)."""

    @field_validator("trusted")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("scanner_agents")
    @classmethod
    def _agents(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"[A-Za-z0-9 ._/-]{2,40}", item):
                raise ValueError(f"{item!r}: letters, digits, space, . _ / - only (2-40 characters)")
        return value


class Panel(Model):
    """The operator panels wired to the box's GPIO header."""

    driver: Literal["gpiozero", "periphery"] = "gpiozero"
    """How the pins are driven on the box: gpiozero (lgpio on a Pi) or python-periphery (character
    device). Simulation always uses gpiozero's mock pins."""
    pins: PinMap
    """Which pin each station's buttons and LED, and the box LED, are on."""


# --- The whole configuration ----------------------------------------------------------------------


class Settings(Model):
    """The whole configuration of a box."""

    sip: Sip = Sip()
    """The SIP transport: port and addresses."""
    prompts: dict[Name, Prompt] = {}
    """Prompts by name: what the box can play (menus, greetings, music, messages)."""
    recording: Recording = Recording()
    """Call recording settings."""
    hours: Hours = Hours()
    """Business hours, time zone and holidays."""
    lines: list[Line] = []
    """Phone lines (SIP trunks, FXO gateways) the box accepts calls on."""
    menus: list[Menu] = []
    """IVR menus."""
    queues: list[Queue] = []
    """Queues (hunt groups) of operators."""
    operators: list[Operator] = []
    """Operators: SIP phones and headset stations."""
    callers: Callers = Callers()
    """Rules for particular callers (priority)."""
    mailboxes: list[Mailbox] = []
    """Voicemail boxes (voicemail:NAME destinations)."""
    outbound: Outbound = Outbound()
    """What the box may dial out (callbacks), and how often."""
    panel: Panel | None = None
    """The operator panels; none on a box whose operators use only phones."""
    edge: Edge | None = None
    """The SIP edge (Kamailio) in front of the engine: registrar, bans; none: the engine itself on sip.port."""

    def reference_problems(self):
        """Names that refer to nothing, or are used twice: (key, value, reason) for each."""
        for kind, items in (("line", self.lines), ("menu", self.menus), ("queue", self.queues),
                            ("operator", self.operators), ("mailbox", self.mailboxes)):
            names = [i.name for i in items]
            for dup in {n for n in names if names.count(n) > 1}:
                yield f"{kind}s", dup, "name is used twice"
        menus, queues = {m.name for m in self.menus}, {q.name for q in self.queues}
        operators, prompts = {o.name for o in self.operators}, set(self.prompts)
        known = {"menu": menus, "queue": queues, "operator": operators, "message": prompts,
                 "voicemail": {m.name for m in self.mailboxes}}

        def check(where: str, dest: str):
            kind, target = parse_destination(dest)
            if kind in known and target not in known[kind]:
                yield where, dest, f"there is no {kind} {target!r}"

        def prompt(where: str, name: str | None):
            if name is not None and name not in prompts:
                yield where, name, "there is no prompt of that name"

        for line in self.lines:
            for route in line.routes:
                yield from prompt(f"lines.{line.name}.routes.greeting", route.greeting)
                for m in (route.day_menu, route.night_menu):
                    if m is not None and m not in menus:
                        yield f"lines.{line.name}.routes", m, "there is no menu of that name"
        for menu in self.menus:
            for digit, dest in menu.options.items():
                yield from check(f"menus.{menu.name}.options.{digit}", dest)
            yield from check(f"menus.{menu.name}.on_invalid", menu.on_invalid)
            yield from check(f"menus.{menu.name}.on_noinput", menu.on_noinput)
            for field in ("prompt", "invalid_prompt", "noinput_prompt"):
                yield from prompt(f"menus.{menu.name}.{field}", getattr(menu, field))
        for queue in self.queues:
            yield from check(f"queues.{queue.name}.fallback", queue.fallback)
            yield from prompt(f"queues.{queue.name}.music", queue.music)
            for op in queue.operators:
                if op not in operators:
                    yield f"queues.{queue.name}.operators", op, "there is no operator of that name"
        for op in self.operators:
            yield from prompt(f"operators.{op.name}.voice", op.voice)
        for box in self.mailboxes:
            yield from prompt(f"mailboxes.{box.name}.greeting", box.greeting)
        yield from prompt("recording.disclosure_prompt", self.recording.disclosure_prompt)
        usernames = [o.username for o in self.operators if o.username]
        for dup in {u for u in usernames if usernames.count(u) > 1}:
            yield "operators.username", dup, "two operators register with the same user name"
        if self.edge is not None and self.sip.address == "0.0.0.0" and not self.sip.public_address:
            # Kamailio would put 0.0.0.0 in its Via and Record-Route: phones could not answer it.
            yield "sip.address", self.sip.address, "with the edge, give the box's own address (or sip.public_address)"
        for op in self.operators:
            if op.username and op.uri is None and self.edge is None:
                yield f"operators.{op.name}.username", op.username, "registering phones need the edge ([edge])"
        stations = {o.name for o in self.operators if o.kind == "station"}
        for name in self.panel.pins.stations if self.panel else ():
            if name not in stations:
                yield "panel.pins.stations", name, "there is no operator of kind station of that name"

    # Lookups used by the engine; KeyError when the name is not configured (any more).
    def menu(self, name: str) -> Menu:
        return _named(self.menus, name, "menu")

    def queue(self, name: str) -> Queue:
        return _named(self.queues, name, "queue")

    def operator(self, name: str) -> Operator:
        return _named(self.operators, name, "operator")

    def mailbox(self, name: str) -> Mailbox:
        return _named(self.mailboxes, name, "mailbox")

    def line(self, name: str) -> Line:
        return _named(self.lines, name, "line")


def _named(items, name: str, kind: str):
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {kind} named {name!r}")


# --- Loading and saving ---------------------------------------------------------------------------


def _key(loc: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _value_at(data, loc):
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def from_dict(data: dict) -> Settings:
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            reason = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                reason = "unknown key"
            problems.append((_key(loc) or "(top level)", _value_at(data, loc) if loc else None, reason))
        raise SettingsError(problems) from None
    problems = list(settings.reference_problems())
    if problems:
        raise SettingsError(problems)
    return settings


def from_toml(text: str) -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([("(file)", None, f"not valid TOML: {exc}")]) from None
    return from_dict(data)


def to_toml(settings: Settings) -> str:
    data = settings.model_dump(mode="json", exclude_none=True)
    return tomli_w.dumps(data)


def demo() -> Settings:
    """The configuration an empty data directory starts from in simulation."""
    return from_toml((Path(__file__).parent / "demo.toml").read_text())


def field_docs(model: type[BaseModel] = Settings, prefix: str = "") -> dict[str, str]:
    """Every settings key with its description (for the docs test and `switchboard config keys`)."""
    docs = {}
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        docs[key] = field.description or ""
        inner = _inner_model(field.annotation)
        if inner is not None:
            docs.update(field_docs(inner, key + "."))
    return docs


def _inner_model(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
