"""Which pjsua2 build this is, and how many SIP calls one engine process can hold with it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path

BUILD_INFO = "switchboard_pjsua2_build.json"
"""Written next to the module by `make pjsua2` (the from-source build) with its limits."""
WHEEL_MAX_CALLS = 4
"""PJSUA_MAX_CALLS of the PyPI wheel pjsua2-python (upstream default; maxCalls is clamped to it)."""


@dataclass(frozen=True)
class Build:
    name: str
    version: str
    max_calls: int
    note: str = ""


def detect(module, version: str, configured: int | None = None) -> Build:
    """The build, with the call limit lowered to `configured` (settings sip.max_calls) if smaller."""
    build = _detect(module, version)
    if configured is not None and configured < build.max_calls:
        return replace(build, max_calls=configured,
                       note=f"limited to {configured} SIP calls by sip.max_calls (the build allows "
                            f"{build.max_calls})")
    return build


def _detect(module, version: str) -> Build:
    info = Path(module.__file__).with_name(BUILD_INFO)
    if info.exists():
        data = json.loads(info.read_text())
        return Build(f"from source ({data.get('config', 'switchboard config_site.h')})", version,
                     int(data["max_calls"]))
    try:
        wheel = metadata.version("pjsua2-python")
    except metadata.PackageNotFoundError:
        wheel = None
    if wheel:
        return Build(f"PyPI wheel pjsua2-python {wheel}", version, WHEEL_MAX_CALLS,
                     f"this build allows {WHEEL_MAX_CALLS} SIP calls per engine (a caller and a SIP "
                     "operator use one each); `make pjsua2` builds the box's own for more")
    return Build("unknown build", version, WHEEL_MAX_CALLS,
                 f"limits unknown; assuming {WHEEL_MAX_CALLS} SIP calls")


def as_dict(build: Build, in_use: int) -> dict:
    return {**asdict(build), "in_use": in_use}
