"""Which ended calls put a caller on the worklist (callers not served), and why. Pure."""

from __future__ import annotations

from firmware.engine.dialplan import NUMBER, normalise


def number_of(caller_id: str) -> str | None:
    """The worklist key of a caller: their number, or None when it is withheld or not a number."""
    digits = normalise(caller_id)
    return digits if digits and NUMBER.match(digits) else None


def unserved_reason(disposition: str, end_reason: str, chose: bool, caller_left: bool) -> str | None:
    """Why a call that ended this way left its caller unserved, or None when it did not."""
    if disposition == "abandoned":
        return f"abandoned: {end_reason}"
    if disposition == "timeout":
        return f"timed out: {end_reason}"
    if disposition == "voicemail":
        return "left a voicemail"
    if disposition == "ivr_hangup" and chose and caller_left:
        return "hung up in the IVR after a choice"
    return None
