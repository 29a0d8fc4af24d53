"""Explicit state machines: one transition table each for customer calls and for operators."""

from __future__ import annotations

from enum import Enum


class IllegalTransition(RuntimeError):
    pass


class CallState(str, Enum):
    """A customer's call, from the line's INVITE to the end."""

    ivr = "ivr"                # answered; menus and prompts
    queued = "queued"          # waiting in a hunt group, hearing music
    connected = "connected"    # talking with an operator
    message = "message"        # hearing a final message, then the box hangs up
    confirming = "confirming"  # a queued caller asking for a callback: confirming or keying a number
    voicemail = "voicemail"    # hearing a mailbox greeting, then leaving a message
    calling_back = "calling_back"  # the box's own call: an operator reserved, the customer dialled
    dialling_out = "dialling_out"  # an operator's own outgoing call: the number dialled on a line, ringing
    ended = "ended"


CALL_TRANSITIONS: dict[CallState, set[CallState]] = {
    CallState.ivr: {CallState.ivr, CallState.queued, CallState.message, CallState.voicemail, CallState.ended},
    CallState.queued: {CallState.connected, CallState.ivr, CallState.message, CallState.confirming,
                       CallState.voicemail, CallState.ended},
    CallState.confirming: {CallState.queued, CallState.message, CallState.ended},
    CallState.voicemail: {CallState.message, CallState.ended},
    CallState.calling_back: {CallState.connected, CallState.ended},
    CallState.dialling_out: {CallState.connected, CallState.ended},
    CallState.connected: {CallState.queued, CallState.ended},
    CallState.message: {CallState.ended},
    CallState.ended: set(),
}


class OperatorState(str, Enum):
    logged_out = "logged_out"
    ready = "ready"
    paused = "paused"
    ringing = "ringing"
    on_call = "on_call"
    wrapup = "wrapup"


OPERATOR_TRANSITIONS: dict[OperatorState, set[OperatorState]] = {
    OperatorState.logged_out: {OperatorState.ready, OperatorState.paused, OperatorState.on_call},
    OperatorState.ready: {OperatorState.paused, OperatorState.ringing, OperatorState.logged_out,
                          OperatorState.on_call},
    OperatorState.paused: {OperatorState.ready, OperatorState.logged_out, OperatorState.paused,
                           OperatorState.on_call},
    OperatorState.ringing: {OperatorState.on_call, OperatorState.ready, OperatorState.paused,
                            OperatorState.logged_out},
    OperatorState.on_call: {OperatorState.wrapup},
    OperatorState.wrapup: {OperatorState.ready, OperatorState.paused, OperatorState.logged_out,
                           OperatorState.on_call},
}

# Straight to on_call (from ready, paused, logged out or wrap-up): an operator dialling out from their
# phone (firmware/engine/outbound.py).
# What the operator asks for while busy is applied when the call and wrap-up are over.
BUSY = {OperatorState.ringing, OperatorState.on_call, OperatorState.wrapup}


def check(table: dict, current, new) -> None:
    if new not in table[current]:
        raise IllegalTransition(f"{current.value} -> {new.value}")
