"""A SIP test phone in its own process: the far end of a call for tests and `switchboard sim call`.

    python -m firmware.sim.phone call sip:100@127.0.0.1:5060 --tone 600 --digits 12 --json
    python -m firmware.sim.phone answer --port 5090 --tone 1300 --hangup-after 4

While audio flows it sends a sine tone and records what it hears; at exit it reports the call
timeline and what the recording holds (firmware.sim.analysis). One pjsua2 Endpoint per process:
call main() once per process.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import heapq
import itertools
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
import wave
from dataclasses import dataclass, field

import numpy as np
import pjsua2 as pj

from firmware.sim import analysis

DTMF_CHARS = set("0123456789*#ABCDabcd")
MEDIA_STATUS = {pj.PJSUA_CALL_MEDIA_NONE: "none", pj.PJSUA_CALL_MEDIA_ACTIVE: "active",
                pj.PJSUA_CALL_MEDIA_LOCAL_HOLD: "local hold",
                pj.PJSUA_CALL_MEDIA_REMOTE_HOLD: "remote hold", pj.PJSUA_CALL_MEDIA_ERROR: "error"}


class UsageError(Exception):
    """A bad argument found only once pjsua2 is up (exit code 2)."""


@dataclass(eq=False)
class CallLog:
    """What happened to one call, in plain Python (no pjsua2 objects)."""

    direction: str
    remote_uri: str = ""
    last_status: int | None = None
    last_reason: str = ""
    connected: bool = False
    connected_s: float = 0.0
    disconnected_by: str | None = None
    record: str | None = None
    heard: list = field(default_factory=list)
    confirmed_at: float | None = field(default=None, repr=False)
    hangup_requested: bool = field(default=False, repr=False)
    ended: bool = field(default=False, repr=False)

    def public(self) -> dict:
        skip = {"confirmed_at", "hangup_requested", "ended"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}


def _guarded(method):
    """pjsua2 swallows exceptions escaping callbacks; record them as events instead."""
    def wrapper(self, prm):
        try:
            method(self, prm)
        except Exception as exc:  # noqa: BLE001 - any bug must reach the report
            traceback.print_exc()
            self.phone.event("error", f"{method.__name__}: {exc!r}")
    wrapper.__name__ = method.__name__
    return wrapper


class _Call(pj.Call):
    def __init__(self, phone: Phone, account: pj.Account, index: int, log: CallLog,
                 call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.phone = phone
        self.index = index
        self.log = log
        self.recorder: pj.AudioMediaRecorder | None = None

    @_guarded
    def onCallState(self, prm):
        info = self.getInfo()
        log = self.log
        log.remote_uri = info.remoteUri
        if info.lastStatusCode:
            log.last_status, log.last_reason = int(info.lastStatusCode), info.lastReason
        self.phone.event("state", f"{info.stateText} {log.last_status or ''} {log.last_reason}"
                         .strip(), call=self)
        now = time.monotonic()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and log.confirmed_at is None:
            log.connected, log.confirmed_at = True, now
            self.phone.on_confirmed(self)
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED and not log.ended:
            log.ended = True
            if log.confirmed_at is not None:
                log.connected_s = round(now - log.confirmed_at, 3)
            log.disconnected_by = "local" if log.hangup_requested else "remote"
            self.phone.ended.append(self)

    @_guarded
    def onCallMediaState(self, prm):
        info = self.getInfo()
        for media in info.media:
            if media.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            self.phone.event("media", MEDIA_STATUS.get(media.status, str(media.status)), call=self)
            if media.status in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
                self.phone.connect_audio(self, self.getAudioMedia(media.index))

    @_guarded
    def onDtmfDigit(self, prm):
        self.phone.event("dtmf_received", str(prm.digit), call=self)


class _Account(pj.Account):
    def __init__(self, phone: Phone):
        super().__init__()
        self.phone = phone

    @_guarded
    def onIncomingCall(self, prm):
        lines = prm.rdata.wholeMsg.splitlines()
        from_line = next((ln.split(":", 1)[1].strip() for ln in lines
                          if ln.lower().startswith(("from:", "f:"))), "")
        self.phone.on_incoming(prm.callId, lines[0] if lines else "", from_line,
                               prm.rdata.srcAddress)


class _RegisteringAccount(_Account):
    """An account that registers: reports each registration outcome (code and reason)."""

    @_guarded
    def onRegState(self, prm):
        info = self.getInfo()
        self.phone.on_registration(int(prm.code), prm.reason, info.regIsActive)


class Phone:
    """One pjsua2 endpoint and its loop. Subclasses decide what to do with calls."""

    mode = ""
    account_class = _Account

    def __init__(self, opts: argparse.Namespace):
        self.opts = opts
        self.t0 = time.monotonic()
        self.events: list[dict] = []
        self.logs: list[CallLog] = []
        self.calls: dict[int, _Call] = {}
        self.ended: list[_Call] = []
        self.timers: list[tuple] = []  # (due, seq, action, call index, arguments)
        self._seq = itertools.count()
        self.stop_reason: str | None = None
        self.port = 0
        self.workdir = tempfile.mkdtemp(prefix="switchboard-phone-")
        self.ep: pj.Endpoint | None = None
        self.account: _Account | None = None
        self.player: pj.AudioMediaPlayer | None = None

    # -- timeline and timers

    def event(self, kind: str, detail: str = "", call: _Call | None = None, **extra) -> None:
        entry = {"t": round(time.monotonic() - self.t0, 3), "event": kind, "detail": detail}
        if call is not None:
            entry["call"] = call.index
        entry.update(extra)
        self.events.append(entry)

    def after(self, seconds: float, action: str, call: _Call, *args) -> None:
        # Timers name the call by index: holding the Call would keep it alive after it ended.
        heapq.heappush(self.timers, (time.monotonic() + seconds, next(self._seq), action,
                                     call.index, args))

    def _fire_timers(self) -> None:
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, _, action, index, args = heapq.heappop(self.timers)
            call = next((c for c in self.calls.values() if c.index == index), None)
            if call is None or call.log.ended:
                continue
            try:
                getattr(self, "do_" + action)(call, *args)
            except pj.Error as exc:
                self.event("error", f"{action}: {exc.info()}", call=call)

    def do_hangup(self, call: _Call, code: int = 0) -> None:
        call.log.hangup_requested = True
        prm = pj.CallOpParam()
        prm.statusCode = code
        call.hangup(prm)

    # -- lifecycle

    def start(self) -> None:
        opts = self.opts
        self.ep = ep = pj.Endpoint()
        with _quiet_stdout():  # pjlib logs to stdout before libInit applies logConfig
            ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.userAgent = "switchboard-sim-phone"
        cfg.logConfig.consoleLevel = 0
        cfg.logConfig.level = opts.log_level if opts.log_file else 0
        cfg.logConfig.filename = opts.log_file or ""
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.ecTailLen = 0
        cfg.medConfig.noVad = True  # steady RTP, like a desk phone: gaps then mean real dropouts
        ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = opts.port
        tcfg.boundAddress = opts.bind
        tcfg.publicAddress = opts.bind
        tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        self.port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
        ep.libStart()
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():
            name = codec.codecId.split("/")[0].upper()
            ep.codecSetPriority(codec.codecId, {"PCMU": 255, "PCMA": 254}.get(name, 0))
        self.account = self.account_class(self)
        self.account.create(self._account_config(tid), True)
        if opts.tone > 0:
            self.player = pj.AudioMediaPlayer()
            self.player.createPlayer(_write_tone(self.workdir, opts.tone))
        self.event("ready", f"{opts.bind}:{self.port}")
        if opts.ready_file:
            _write_atomically(opts.ready_file, str(self.port))

    def _account_config(self, tid: int) -> pj.AccountConfig:
        opts = self.opts
        acfg = pj.AccountConfig()
        user = getattr(opts, "caller_id", None) or getattr(opts, "from_user", None) or "phone"
        display = f'"{opts.from_user}" ' if getattr(opts, "caller_id", None) else ""
        acfg.idUri = f"{display}<sip:{user}@{opts.bind}>"
        acfg.sipConfig.transportId = tid
        acfg.mediaConfig.transportConfig.boundAddress = opts.bind
        return acfg

    def run(self) -> None:
        deadline = self.t0 + self.opts.max_seconds
        self.begin()
        while not self.finished() and self.stop_reason is None:
            if time.monotonic() >= deadline:
                self.stop_reason = "max-seconds"
                break
            self.ep.libHandleEvents(10)
            self._fire_timers()
            self._reap()
        if self.stop_reason:
            self.event("stop", self.stop_reason)

    def _reap(self) -> None:
        while self.ended:
            call = self.ended.pop()
            call.recorder = None  # closing the recorder writes the WAV sizes
            self.calls = {k: v for k, v in self.calls.items() if v is not call}

    def close(self) -> None:
        """Shut down in the order that never aborts at libDestroy (see reference/pjsua2.md)."""
        if self.ep is None:
            return
        try:
            self._hang_up_all()
        except pj.Error as exc:
            self.event("error", f"shutdown: {exc.info()}")
        self._drop_media_and_calls()
        for name in ("last_type", "last_value", "last_traceback"):
            if hasattr(sys, name):
                delattr(sys, name)
        gc.collect()
        if self.account is not None:
            self.account.shutdown()
            self.account = None
        gc.collect()
        self.ep.libDestroy()
        self.ep = None

    # Loops over calls live in their own methods: a loop variable left in close() would keep a
    # Call alive past libDestroy, which aborts the process.

    def _hang_up_all(self) -> None:
        for call in self.calls.values():
            call.log.hangup_requested = True
        self.ep.hangupAllCalls()
        until = time.monotonic() + 1.0
        while time.monotonic() < until and (self.calls or self.ended):
            self.ep.libHandleEvents(10)
            self._reap()
        for _ in range(20):  # let the last BYE/CANCEL transactions finish
            self.ep.libHandleEvents(10)

    def _drop_media_and_calls(self) -> None:
        self.timers.clear()
        self.ended.clear()
        for call in self.calls.values():
            call.recorder = None
        self.calls.clear()
        self.player = None

    # -- media

    def connect_audio(self, call: _Call, media: pj.AudioMedia) -> None:
        if call.recorder is None:
            call.recorder = pj.AudioMediaRecorder()
            call.log.record = self._record_path(call.index)
            call.recorder.createRecorder(call.log.record)
        if self.player is not None:
            self.player.startTransmit(media)
        media.startTransmit(call.recorder)

    def _record_path(self, index: int) -> str:
        base = self.opts.record or os.path.join(self.workdir, "heard.wav")
        if index == 0:
            return base
        stem, ext = os.path.splitext(base)
        return f"{stem}-{index + 1}{ext or '.wav'}"

    # -- scenario hooks

    def new_call(self, direction: str, call_id: int = pj.PJSUA_INVALID_ID) -> _Call:
        log = CallLog(direction)
        self.logs.append(log)
        return _Call(self, self.account, len(self.logs) - 1, log, call_id)

    def begin(self) -> None:
        pass

    def finished(self) -> bool:
        raise NotImplementedError

    def on_confirmed(self, call: _Call) -> None:
        if self.opts.hangup_after is not None:
            self.after(self.opts.hangup_after, "hangup", call)

    def on_incoming(self, call_id, request_line, from_header, source) -> None:
        """A phone that is not waiting for calls is busy."""
        self.do_hangup(self.take_incoming(call_id, "busy", request_line, from_header, source), 486)

    def take_incoming(self, call_id, direction, request_line, from_header, source) -> _Call:
        call = self.new_call(direction, call_id)
        self.calls[call_id] = call  # without this reference the caller gets 603 at once
        self.event("incoming", request_line, call=call, **{"from": from_header, "source": source})
        return call

    # -- report

    def report(self) -> dict:
        for log in self.logs:
            if log.record and os.path.exists(log.record):
                rate, samples = analysis.read_wav(log.record)
                log.heard = [dataclasses.asdict(s) for s in analysis.segments(samples, rate)]
        first = self.logs[0] if self.logs else CallLog("")
        return {"mode": self.mode, "port": self.port, "events": self.events,
                "calls": [log.public() for log in self.logs],
                "heard": first.heard, "record": first.record}


class Caller(Phone):
    mode = "call"

    def begin(self) -> None:
        if self.ep.utilVerifySipUri(self.opts.uri) != 0:
            raise UsageError(f"not a valid SIP URI: {self.opts.uri}")
        call = self.new_call("out")
        self.event("dial", self.opts.uri, call=call)
        call.makeCall(self.opts.uri, pj.CallOpParam(True))
        self.calls[call.getId()] = call

    def finished(self) -> bool:
        return bool(self.logs) and all(log.ended for log in self.logs)

    def on_confirmed(self, call: _Call) -> None:
        super().on_confirmed(call)
        if self.opts.digits:
            self.after(self.opts.digit_delay, "digits", call)
        elif self.opts.talk is not None:
            self.after(self.opts.talk, "hangup", call)

    def _account_config(self, tid: int) -> pj.AccountConfig:
        acfg = super()._account_config(tid)
        if self.opts.username:  # a phone of the box's own dialling out: the edge challenges its INVITE
            acfg.idUri = f"sip:{self.opts.username}@{self.opts.bind}"
            acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", self.opts.username, 0,
                                                            self.opts.password or ""))
        return acfg

    def do_digits(self, call: _Call, digits: str | None = None) -> None:
        """Send digits up to the next comma; each comma is a one-second pause (as on a phone)."""
        digits = self.opts.digits if digits is None else digits
        now, _, rest = digits.partition(",")
        if now:
            call.dialDtmf(now)
            self.event("dtmf_sent", now, call=call)
        if _ or rest:
            self.after(1.0, "digits", call, rest)
        elif self.opts.talk is not None:
            self.after(self.opts.talk, "hangup", call)


class Answerer(Phone):
    mode = "answer"

    def finished(self) -> bool:
        answered = [log for log in self.logs if log.direction == "in"]
        return len(answered) >= self.opts.calls and all(log.ended for log in answered)

    def on_incoming(self, call_id, request_line, from_header, source) -> None:
        if len(self.logs) >= self.opts.calls:
            super().on_incoming(call_id, request_line, from_header, source)
            return
        call = self.take_incoming(call_id, "in", request_line, from_header, source)
        prm = pj.CallOpParam()
        prm.statusCode = 180
        call.answer(prm)
        if self.opts.answer_after >= 0:
            self.after(self.opts.answer_after, "reject" if self.opts.reject else "answer", call)

    def do_answer(self, call: _Call) -> None:
        prm = pj.CallOpParam()
        prm.statusCode = 200
        call.answer(prm)

    def do_reject(self, call: _Call) -> None:
        self.do_hangup(call, self.opts.reject)


class Registerer(Answerer):
    """A phone that registers with a registrar (digest authentication), then answers calls like
    `answer`. If the registration is refused the phone stops at once (the report says why)."""

    mode = "register"
    account_class = _RegisteringAccount

    def __init__(self, opts: argparse.Namespace):
        super().__init__(opts)
        self.registrations: list[dict] = []

    def _account_config(self, tid: int) -> pj.AccountConfig:
        opts = self.opts
        acfg = super()._account_config(tid)
        host = opts.registrar.split(":", 1)[1]
        acfg.idUri = f"sip:{opts.username}@{host}"
        acfg.regConfig.registrarUri = opts.registrar
        acfg.regConfig.timeoutSec = opts.expires
        acfg.regConfig.retryIntervalSec = 0  # a refused registration is reported, not retried
        cred = pj.AuthCredInfo("digest", "*", opts.username, 0, opts.password)
        acfg.sipConfig.authCreds.append(cred)
        return acfg

    def on_registration(self, code: int, reason: str, active: bool) -> None:
        self.registrations.append({"code": code, "reason": reason, "active": active})
        self.event("registration", f"{code} {reason}".strip(), active=active)
        if self.opts.ready_file and active:
            _write_atomically(self.opts.ready_file + ".registered", str(code))
        if not active and code >= 300 and not self.logs:
            self.stop_reason = f"registration refused: {code} {reason}"
        if active and self.opts.dial and not self.logs:
            call = self.new_call("out")
            self.event("dial", self.opts.dial, call=call)
            call.makeCall(self.opts.dial, pj.CallOpParam(True))
            self.calls[call.getId()] = call

    def finished(self) -> bool:
        if self.opts.dial:
            return bool(self.logs) and all(log.ended for log in self.logs)
        return super().finished()

    def report(self) -> dict:
        return {**super().report(), "registrations": self.registrations}


# --- helpers ---------------------------------------------------------------------------------------

def _write_tone(workdir: str, hz: float, rate: int = 8000) -> str:
    # One second with a whole number of cycles loops without a click.
    t = np.arange(rate) / rate
    pcm = (0.3 * 32767 * np.sin(2 * np.pi * round(hz) * t)).astype("<i2")
    path = os.path.join(workdir, f"tone-{round(hz)}.wav")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


@contextlib.contextmanager
def _quiet_stdout():
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def human_report(result: dict) -> str:
    lines = [f"phone ({result['mode']}) on port {result['port']}"]
    for ev in result["events"]:
        who = f" [call {ev['call'] + 1}]" if "call" in ev else ""
        extra = f"  from {ev['from']}  via {ev['source']}" if ev["event"] == "incoming" else ""
        lines.append(f"{ev['t']:8.3f}  {ev['event']}{who}  {ev['detail']}{extra}")
    for n, call in enumerate(result["calls"], 1):
        status = f"{call['last_status']} {call['last_reason']}" if call["last_status"] else "-"
        lines.append(f"call {n} ({call['direction']}): {call['remote_uri']}  {status}  "
                     f"connected {call['connected_s']:.1f} s  "
                     f"disconnected by {call['disconnected_by'] or '-'}")
        if call["record"]:
            segs = [analysis.Segment(**s) for s in call["heard"]]
            lines.append(f"  heard ({call['record']}):")
            lines.extend("    " + ln for ln in analysis.describe(segs).splitlines())
    return "\n".join(lines)


# --- command line ----------------------------------------------------------------------------------

def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("port must be 0-65535")
    return value


def _sip_uri(text: str) -> str:
    if not text.startswith(("sip:", "sips:")):
        raise argparse.ArgumentTypeError(f"not a SIP URI: {text!r}")
    return text


def _digits(text: str) -> str:
    if not text or not set(text) <= DTMF_CHARS | {","}:
        raise argparse.ArgumentTypeError("digits must be 0-9, *, #, A-D (a comma pauses one second)")
    return text


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _tone_hz(text: str) -> float:
    hz = float(text)
    if not 0 <= hz < 4000:
        raise argparse.ArgumentTypeError("tone must be 0 (silence) or below 4000 Hz")
    return hz


def _reject_code(text: str) -> int:
    code = int(text)
    if not 300 <= code <= 699:
        raise argparse.ArgumentTypeError("reject code must be 300-699")
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m firmware.sim.phone", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", type=_port, default=0, help="SIP UDP port (0 = any free port)")
    common.add_argument("--bind", default="127.0.0.1", help="local IP address to use")
    common.add_argument("--tone", type=_tone_hz, default=0.0,
                        help="sine tone sent while in a call, Hz (0 = silence)")
    common.add_argument("--record", help="WAV file of what is heard (default: a temp file)")
    common.add_argument("--hangup-after", type=float, help="hang up S seconds after answered")
    common.add_argument("--max-seconds", type=float, default=60.0,
                        help="hang up and exit after this long (default 60)")
    common.add_argument("--ready-file", help="write the bound SIP port here once listening")
    common.add_argument("--json", action="store_true", help="print one JSON object at exit")
    common.add_argument("--log-file", help="pjsua log file")
    common.add_argument("--log-level", type=int, default=4, help="pjsua log level for --log-file")
    modes = parser.add_subparsers(dest="mode", required=True)

    call = modes.add_parser("call", parents=[common], help="place one call")
    call.add_argument("uri", type=_sip_uri, help="e.g. sip:100@127.0.0.1:5060")
    call.add_argument("--digits", type=_digits, help="DTMF digits to send (RFC 4733)")
    call.add_argument("--digit-delay", type=float, default=2.0,
                      help="seconds after answer before sending the digits (default 2)")
    call.add_argument("--talk", type=float,
                      help="hang up S seconds after the digits (or after answer without digits)")
    call.add_argument("--from-user", default="caller", help="From user part (default caller)")
    call.add_argument("--caller-id", help="number put as the From user part (--from-user "
                                          "becomes the display name)")
    call.add_argument("--username", help="answer digest challenges as this user (also the From user)")
    call.add_argument("--password", help="digest password for --username")

    answer = modes.add_parser("answer", parents=[common], help="wait for incoming calls")
    answer.add_argument("--calls", type=_positive_int, default=1,
                        help="calls to take (default 1); later ones get 486")
    answer.add_argument("--answer-after", type=float, default=0.5,
                        help="ring S seconds before answering (negative = never answer)")
    answer.add_argument("--reject", type=_reject_code,
                        help="reject with this SIP code instead of answering")

    register = modes.add_parser("register", parents=[common],
                                help="register with a registrar (digest auth), then answer calls")
    register.add_argument("registrar", type=_sip_uri, help="e.g. sip:127.0.0.1:5060")
    register.add_argument("--username", required=True, help="user name (also the AOR's user part)")
    register.add_argument("--password", required=True, help="digest password")
    register.add_argument("--expires", type=_positive_int, default=300, help="registration expiry, s")
    register.add_argument("--calls", type=_positive_int, default=1,
                          help="calls to take (default 1); later ones get 486")
    register.add_argument("--answer-after", type=float, default=0.5,
                          help="ring S seconds before answering (negative = never answer)")
    register.add_argument("--reject", type=_reject_code,
                          help="reject with this SIP code instead of answering")
    register.add_argument("--dial", type=_sip_uri,
                          help="once registered, place one call here (e.g. sip:0301234567@127.0.0.1:5060)"
                               " instead of waiting for calls; --hangup-after ends it")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        opts = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    phone = {"call": Caller, "answer": Answerer, "register": Registerer}[opts.mode](opts)

    def stop(signum, _frame):
        phone.stop_reason = signal.Signals(signum).name

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    code = 0
    try:
        phone.start()
        phone.run()
    except UsageError as exc:
        phone.event("error", str(exc))
        code = 2
    except pj.Error as exc:
        phone.event("error", exc.info())
        code = 1
    finally:
        phone.close()
    result = phone.report()
    if opts.json:
        print(json.dumps(result))
    else:
        print(human_report(result))
    return code


if __name__ == "__main__":
    sys.exit(main())
