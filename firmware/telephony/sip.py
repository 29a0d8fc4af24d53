"""pjsua2 behind the engine's `Telephony` port: SIP legs, prompts, music, bridges and recorders.

Everything here runs on the loop thread. Callbacks only turn what happened into an event for the
loop (`emit`); each leg keeps a declared media state (what it hears, who it is bridged with, which
recorders tap it) that is applied again whenever pjsua2 recreates its stream (hold, re-INVITE).
"""

from __future__ import annotations

import gc
import itertools
import logging
import re
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pjsua2 as pj

from firmware import events as ev
from firmware.edge.trust import real_source, trusted_operator
from firmware.engine.ports import CapacityReached, DialFailed
from firmware.settings import Line, Settings
from firmware.store import recordings
from firmware.telephony import capacity, streamstats
from firmware.telephony.headsets import HEADSET_SOURCE
from firmware.telephony.stations import StationAudio

if TYPE_CHECKING:  # the modem driver (numpy) is loaded with the first modem line (firmware/app.py)
    from firmware.telephony.modems import ModemLine

log = logging.getLogger(__name__)

REQUEST_LINE = re.compile(r"^INVITE\s+(?:sips?|tel):(?:([^@;>\s]*)@)?[^\s]*\s+SIP/2\.0", re.I)
FROM_HEADER = re.compile(r"^(?:From|f)\s*:\s*(.*)$", re.I | re.M)
NAME_URI = re.compile(r'^\s*(?:"([^"]*)"|([^<]*?))\s*<?(?:sips?|tel):([^@;>]*)')

ACK_WAIT_S = 8.0
"""An answered call whose ACK has not come in this long is hung up. pjsip would keep it (and its call
slot) until it gives up retransmitting the 200, about a minute: what an INVITE whose answer cannot
reach its sender (500 Via headers) or a caller that never ACKs would use to pin call slots. A real
caller's ACK comes within a round trip; 8 s covers four lost 200s on a lossy line."""


def parse_invite(message: str) -> tuple[str, str, str]:
    """(dialled number, caller number, caller name) from an INVITE's text."""
    first = message.split("\r\n", 1)[0].split("\n", 1)[0]
    match = REQUEST_LINE.match(first)
    dialled = (match.group(1) or "") if match else ""
    caller, name = "", ""
    header = FROM_HEADER.search(message)
    if header:
        found = NAME_URI.match(header.group(1))
        if found:
            name = (found.group(1) or found.group(2) or "").strip()
            caller = found.group(3)
    return dialled, caller, name


ECHOED = re.compile(r"^(?:Via|v|Record-Route|From|f|To|t|Call-ID|i|CSeq)\s*:.*$", re.I | re.M)
MAX_PACKET = 4000  # PJSIP_MAX_PKT_LEN of the builds we use: a longer message is never sent
ANSWER_OWN_BYTES = 1000  # what the engine adds to an answer: status line, Contact, SDP, other headers


def answer_too_large(message: str) -> bool:
    """Would the answer to this INVITE exceed what pjsip can send? An answer repeats the request's Via,
    Record-Route, From, To, Call-ID and CSeq: an INVITE carrying hundreds of Vias gets a 200 that is
    never sent, and pjsip then holds the call (and its call slot) for about a minute waiting for an
    ACK that cannot come. Such INVITEs are refused before they are answered."""
    head = message.split("\r\n\r\n", 1)[0]
    echoed = sum(len(line) + 2 for line in ECHOED.findall(head))
    return echoed + ANSWER_OWN_BYTES > MAX_PACKET


def readable(text: str) -> str:
    """A message's text with bytes that are not UTF-8 (left as surrogates by the binding) shown as U+FFFD:
    a caller name of raw Latin-1 bytes must not make the call record unwritable."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def doorbell(address: str, port: int) -> socket.socket:
    """A UDP socket aimed at the engine's own SIP port (a wildcard bind is reached on loopback)."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(address, address)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.connect((host, port))
    return sock


def fixed_addresses(acfg, address: str, public_address: str | None, port: int) -> None:
    """With a bound or public address known, Contact and the SDP's media address are fixed: otherwise
    pjsua finds the local interface for each call (gethostname, a routing look-up, a netlink dump of
    every interface: about a tenth of the engine loop's CPU at 30 calls). A wildcard bind without a
    public address keeps the per-call look-up, which follows the box's address if it changes."""
    wildcard = address in ("", "0.0.0.0", "::")
    if not wildcard:
        acfg.mediaConfig.transportConfig.boundAddress = address
    if public_address:
        acfg.mediaConfig.transportConfig.publicAddress = public_address
    host = public_address or (None if wildcard else address)
    if host:
        acfg.sipConfig.contactForced = f"<sip:switchboard@{f'[{host}]' if ':' in host else host}:{port}>"


class StartError(RuntimeError):
    pass


class SipCall(pj.Call):
    def __init__(self, tel: "PjsuaTelephony", account, leg: str, call_id=pj.PJSUA_INVALID_ID, outbound=False):
        super().__init__(account, call_id)
        self.tel, self.leg, self.outbound = tel, leg, outbound

    def onCallState(self, prm):
        try:
            info = self.getInfo()
            if info.state == pj.PJSIP_INV_STATE_CONFIRMED and self.outbound:
                self.tel.emit(ev.LegAnswered(self.leg))
            elif info.state == pj.PJSIP_INV_STATE_CONFIRMED:
                self.tel.acknowledged(self.leg)
            elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self.tel.emit(ev.LegEnded(self.leg, info.lastStatusCode, info.lastReason))
                self.tel.forget(self.leg)
        except Exception:
            log.exception("onCallState")

    def onCallMediaState(self, prm):
        try:
            self.tel.media_changed(self.leg)
        except Exception:
            log.exception("onCallMediaState")

    def onDtmfDigit(self, prm):
        try:
            self.tel.emit(ev.DtmfDigit(self.leg, str(prm.digit)))
        except Exception:
            log.exception("onDtmfDigit")


class Endpoint(pj.Endpoint):
    def __init__(self, tel: "PjsuaTelephony"):
        super().__init__()
        self.tel = tel

    def onRejectedIncomingCall(self, prm):
        try:
            host = real_source(prm.rdata.srcAddress, prm.rdata.wholeMsg, self.tel.edge_address)
            self.tel.emit(ev.IncomingRefused(host, prm.statusCode, prm.reason))
        except Exception:
            log.exception("onRejectedIncomingCall")


class Account(pj.Account):
    def __init__(self, tel: "PjsuaTelephony"):
        super().__init__()
        self.tel = tel

    def onIncomingCall(self, prm):
        try:
            self.tel.incoming(self, prm.callId, prm.rdata.srcAddress, prm.rdata.wholeMsg)
        except Exception:
            log.exception("onIncomingCall")


class Player(pj.AudioMediaPlayer):
    """A prompt sequence played once to one leg; tells the loop when it reaches its end."""

    def __init__(self, tel: "PjsuaTelephony", leg: str, token: int):
        super().__init__()
        self.tel, self.leg, self.token = tel, leg, token

    def onEof2(self):
        tel = getattr(self, "tel", None)  # None while the player is being destroyed (see modems.py)
        if tel is None:
            return
        try:
            tel.emit(ev.PlaybackDone(self.leg, self.token))
        except Exception:
            log.exception("onEof2")


@dataclass
class Leg:
    name: str
    call: SipCall | None = None
    station: StationAudio | None = None
    line: ModemLine | None = None   # a call on a modem line: audio through `port`
    port: object = None
    media_ready: bool = False
    source: object = None          # what the leg hears: a Player, a music player, or None
    peer: str | None = None        # bridged with this leg
    recorders: set[str] = field(default_factory=set)

    def tx(self):
        """The audio this leg sends into the bridge."""
        return self.station.tx if self.station else self.port or self._call_audio()

    def rx(self):
        """Where the audio this leg hears goes."""
        return self.station.rx if self.station else self.port or self._call_audio()

    def _call_audio(self):
        if not self.media_ready:
            return None
        try:
            return self.call.getAudioMedia(-1)
        except pj.Error:  # the stream is gone (call ending)
            self.media_ready = False
            return None


def _try(fn, *args) -> None:
    """pjsua2 transmit changes that fail only when a port is already gone."""
    try:
        fn(*args)
    except pj.Error:
        pass


class PjsuaTelephony:
    def __init__(self, emit, station_factory, prompt_files):
        self.emit = emit
        self.station_factory = station_factory  # (station name, leg, voice file or None) -> StationAudio
        self.prompt_files = prompt_files  # callable: Settings -> {prompt name: wav path}
        self.files: dict[str, str] = {}
        self.voices: dict[str, str | None] = {}
        self.legs: dict[str, Leg] = {}
        self.music_players: dict[str, pj.AudioMediaPlayer] = {}
        self.modem_lines: dict[str, ModemLine] = {}
        self.modem_registry = None  # a modem_lines.ModemLines once the composition root has set it
        self.recorders: dict[str, pj.AudioMediaRecorder] = {}
        self.recording_paths: dict[str, str] = {}
        self._ids = itertools.count(1)
        self.ep = None
        self.account = None
        self.build: capacity.Build | None = None
        self.edge_address: str | None = None  # behind the edge: its loopback address, whose header is believed
        self.sip_port: int | None = None  # the port actually bound (port 0 picks one)
        self._doorbell: socket.socket | None = None
        self._refuse_later: list[str] = []  # INVITEs whose answer could not be sent (answer_too_large)
        self._awaiting_ack: dict[str, float] = {}  # answered incoming legs -> when they are hung up without ACK

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self, settings: Settings, port: int, bind: str | None = None, proxy: str | None = None,
              edge_address: str | None = None) -> None:
        """Open SIP on settings.sip.address:port; behind the edge on `bind` (loopback) instead, with
        every outgoing request through the edge (`proxy`) and its source header believed."""
        self.edge_address = edge_address
        self.ep = Endpoint(self)
        self.ep.libCreate()
        self.build = capacity.detect(pj, self.ep.libVersion().full, settings.sip.max_calls)
        cfg = pj.EpConfig()
        # SIP is handled only by this thread's libHandleEvents (no worker threads). Media callbacks
        # (DTMF, a player's end) come straight from pjsua2's media and clock threads and only hand
        # an event to the loop, which wakes it; as queued jobs (mainThreadOnly) a digit waited up
        # to a whole poll for the next libHandleEvents to run it. A digit's callback runs under its
        # RTP socket's lock, which the stream's teardown takes before DISCONNECTED: none outlives
        # its call (pjmedia transport_udp, concurrency off), so the Call can go on DISCONNECTED.
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = False
        cfg.uaConfig.maxCalls = self.build.max_calls
        cfg.uaConfig.userAgent = "Switchboard"
        cfg.logConfig.level = 2
        cfg.logConfig.consoleLevel = 1
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.ecTailLen = 0
        cfg.medConfig.noVad = True
        self.ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = port
        tcfg.boundAddress = bind or settings.sip.address
        if settings.sip.public_address and not bind:
            tcfg.publicAddress = settings.sip.public_address
        try:
            tid = self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        except pj.Error as exc:
            raise StartError(f"cannot open SIP port {tcfg.boundAddress}:{port}: {exc.reason.strip()}"
                             " (is another engine or PBX using it?)") from None
        self.sip_port = int(self.ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
        port = self.sip_port
        self.ep.libStart()
        self._doorbell = doorbell(tcfg.boundAddress, port)
        self.ep.audDevManager().setNullDev()
        for codec in self.ep.codecEnum2():
            priority = {"PCMU/8000/1": 255, "PCMA/8000/1": 254}.get(codec.codecId, 0)
            self.ep.codecSetPriority(codec.codecId, priority)
        acfg = pj.AccountConfig()
        host = settings.sip.public_address or settings.sip.address
        acfg.idUri = f"sip:switchboard@{'127.0.0.1' if host == '0.0.0.0' or bind else host}:{port}"
        if proxy:
            acfg.sipConfig.proxies.append(proxy)
            # Signalling stays on loopback; media goes straight to the phones and lines.
            media = settings.sip.public_address or settings.sip.address
            if media != "0.0.0.0":
                acfg.mediaConfig.transportConfig.publicAddress = media
        else:
            fixed_addresses(acfg, settings.sip.address, settings.sip.public_address, port)
        self.account = Account(self)
        self.account.create(acfg, True)
        self.configure(settings)
        log.info("SIP on %s:%d, pjsua2 %s, %s, up to %d calls", tcfg.boundAddress, port,
                 self.build.version, self.build.name, self.build.max_calls)

    def poll(self, ms: int) -> None:
        self.ep.libHandleEvents(ms)
        if self._awaiting_ack:
            self._drop_unacknowledged(time.monotonic())
        while self._refuse_later:
            self.reject(self._refuse_later.pop(), 513, "Message Too Large")

    def acknowledged(self, leg: str) -> None:
        self._awaiting_ack.pop(leg, None)

    def _drop_unacknowledged(self, now: float) -> None:
        for leg, deadline in list(self._awaiting_ack.items()):
            if now < deadline:
                continue
            del self._awaiting_ack[leg]
            entry = self.legs.get(leg)
            if entry is not None and entry.call is not None:
                log.warning("call leg %s answered but never acknowledged (no ACK in %.0f s): hung up", leg, ACK_WAIT_S)
                _try(entry.call.hangup, pj.CallOpParam())

    def wake(self) -> None:
        """Make a blocked poll return (from any thread): a datagram on the SIP port ends pjsip's wait,
        and its UDP transport drops one of 32 bytes or less without parsing it."""
        try:
            self._doorbell.send(b"\0")
        except BlockingIOError:
            pass  # the socket buffer is full of earlier rings: the loop is awake anyway

    def shutdown(self) -> None:
        """The order that lets libDestroy() run with no pjsua2 object alive (see pjsua2.md)."""
        if self.ep is None:
            return
        if self.account is None:  # start-up failed before the account existed
            self.ep.libDestroy()
            self.ep = None
            if self._doorbell is not None:
                self._doorbell.close()
            return
        self.ep.hangupAllCalls()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            self.ep.libHandleEvents(20)
        for leg in list(self.legs.values()):
            if leg.station:
                leg.station.close()
        self.legs.clear()
        if hasattr(self.station_factory, "close"):
            self.station_factory.close()  # headset devices, before libDestroy
        for line in self.modem_lines.values():
            line.modem.close()
            line.port = None
        self.music_players.clear()
        self.recorders.clear()
        sys.last_type = sys.last_value = sys.last_traceback = None
        gc.collect()
        if self.account:
            self.account.shutdown()
            self.account = None
        gc.collect()
        self.ep.libDestroy()
        self.ep = None
        if self._doorbell is not None:
            self._doorbell.close()

    def configure(self, settings: Settings) -> None:
        self.files = self.prompt_files(settings)
        self.voices = {op.name: op.voice for op in settings.operators}
        if self.modem_registry is not None:
            self.modem_registry.reconcile(settings.lines)

    def capacity(self) -> dict:
        return capacity.as_dict(self.build, self.sip_calls())

    def stream_stats(self) -> dict:
        """Jitter-buffer figures of every SIP leg with audio (see streamstats)."""
        return streamstats.collect({name: leg.call for name, leg in self.legs.items()
                                    if leg.call is not None and leg.media_ready})

    def line_state(self, line: str) -> str:
        return self.modem_lines[line].state if line in self.modem_lines else "listening"

    def line_diagnostics(self, line: str) -> dict | None:
        """A modem line's identity, settings, last raw caller ID and recent line events."""
        return self.modem_lines[line].modem.diagnostics() if line in self.modem_lines else None

    def line_test(self, line: str):
        """Start a modem line's test in its driver (off this loop); a Future gets the report (a dict)."""
        from concurrent.futures import Future
        modem_line = self.modem_lines.get(line)
        if modem_line is None:
            raise ValueError(f"line {line} has no modem open")
        future: Future = Future()
        if not modem_line.modem.line_test(lambda report: future.set_result(report.as_dict())):
            raise ValueError(f"line {line} is {modem_line.state}: the test needs it idle (on hook, no call,"
                             " not ringing)")
        return future

    def headset_test(self, station: str, folder):
        """Start a station's headset test (tone in, microphone recorded); `.finish()` ends it."""
        from pathlib import Path
        from firmware.telephony.headset_test import HeadsetTest
        media = self.station_factory.test_media(station, self.files.get(self.voices.get(station)))
        try:
            return HeadsetTest(station, media, Path(folder))
        except pj.Error as exc:
            media.close()
            raise DialFailed(f"station {station}: the headset test could not start: {exc.reason}") from None

    def add_modem_line(self, line: ModemLine) -> None:
        self.modem_lines[line.name] = line
        line.modem.start()

    def device_event(self, source: str, event) -> list:
        if source == HEADSET_SOURCE:  # a headset found or lost: opened or closed here, on the loop thread
            return self.station_factory.update(event)
        line = self.modem_lines.get(source.removeprefix("modem:"))
        events = line.translate(event, self._modem_leg) if line else []
        if line and self.modem_registry is not None:
            self.modem_registry.settle(line.name, event)  # a configuration change waiting for the call's end
        for e in events:
            if isinstance(e, ev.LegEnded):
                self.forget(e.leg)  # the line is on hook again: its media port goes
        return events

    def _modem_leg(self, line: ModemLine, port, leg: str | None = None) -> str:
        """A modem call's leg with its media port: a new one (incoming), or the dialled one's."""
        entry = self.legs.get(leg) if leg else None
        if entry is None:
            leg = leg or f"{line.name}#{next(self._ids)}"
            entry = self.legs[leg] = Leg(leg, line=line)
        entry.port, entry.media_ready = port, True
        self._apply(entry)
        return leg

    @property
    def max_calls(self) -> int:
        return self.build.max_calls

    def sip_calls(self) -> int:
        return sum(1 for leg in self.legs.values() if leg.call is not None)

    # --- legs -------------------------------------------------------------------------------------
    def incoming(self, account, call_id: int, source: str, message: str) -> None:
        leg = f"in{next(self._ids)}"
        call = SipCall(self, account, leg, call_id)  # kept at once: an unreferenced Call gets 603
        self.legs[leg] = Leg(leg, call=call)
        host = real_source(source, message, self.edge_address)
        if answer_too_large(message):  # refused from the loop: inside this callback it aborts pjsip
            self._refuse_later.append(leg)
            self.emit(ev.IncomingRefused(host, 513, "Message Too Large (its answer could not be sent)"))
            return
        dialled, caller, name = parse_invite(readable(message))
        operator = trusted_operator(source, message, self.edge_address)
        self.emit(ev.IncomingCall(leg, host, dialled, caller, name, operator=operator))

    def answer(self, leg: str) -> None:
        self._respond(leg, 200)  # a modem line is already off hook when its call reaches the engine
        entry = self.legs.get(leg)
        if entry is not None and entry.call is not None:
            self._awaiting_ack[leg] = time.monotonic() + ACK_WAIT_S

    def reject(self, leg: str, code: int, reason: str = "") -> None:
        entry = self.legs.get(leg)
        if entry and entry.line:
            self.hangup(leg)
        elif entry and entry.call:
            prm = pj.CallOpParam()
            prm.statusCode = code
            if reason:
                prm.reason = reason
            _try(entry.call.hangup, prm)

    def ringing(self, leg: str) -> None:
        """180 to an incoming call the engine is not answering yet (an operator's outgoing call)."""
        self._respond(leg, 180)

    def _respond(self, leg: str, code: int) -> None:
        entry = self.legs.get(leg)
        if entry and entry.call:
            prm = pj.CallOpParam()
            prm.statusCode = code
            _try(entry.call.answer, prm)

    def dial(self, uri: str) -> str:
        if self.sip_calls() >= self.max_calls:
            raise CapacityReached(f"all {self.max_calls} SIP calls of this pjsua2 build are in use")
        leg = f"out{next(self._ids)}"
        call = SipCall(self, self.account, leg, outbound=True)
        self.legs[leg] = Leg(leg, call=call)
        try:
            call.makeCall(uri, pj.CallOpParam(True))
        except pj.Error as exc:
            self.legs.pop(leg, None)
            raise DialFailed(f"{uri}: {exc.reason}") from None
        return leg

    def dial_line(self, line: Line, number: str) -> str:
        """An outgoing call on one of the box's lines: a SIP trunk or gateway, or a modem."""
        if line.kind != "modem":
            return self.dial(line.dial_uri.replace("{number}", number))
        modem_line = self.modem_lines.get(line.name)
        if modem_line is None:
            raise DialFailed(f"line {line.name} has no modem (modem lines start with the engine)")
        leg = f"{line.name}#{next(self._ids)}"
        modem_line.dial(number, leg)
        self.legs[leg] = Leg(leg, line=modem_line)  # no audio until the digits are out
        return leg

    def ring_station(self, station: str) -> str:
        leg = f"{station}#{next(self._ids)}"
        voice = self.voices.get(station)
        self.legs[leg] = Leg(leg, station=self.station_factory(station, leg, self.files.get(voice)))
        self.legs[leg].station.ring()
        return leg

    def hangup(self, leg: str) -> None:
        entry = self.legs.get(leg)
        if entry is None:
            return
        self._unbridge(entry)
        if entry.call is not None:
            _try(entry.call.hangup, pj.CallOpParam())
        else:
            if entry.line:
                entry.line.modem.hang_up()
            self.forget(leg)

    def forget(self, leg: str) -> None:
        self._awaiting_ack.pop(leg, None)
        entry = self.legs.pop(leg, None)
        if entry is None:
            return
        self._unbridge(entry)
        if entry.port is not None and entry.source is not None:
            _try(entry.source.stopTransmit, entry.port)  # the line's port stays for its next call
        entry.media_ready = False  # its ports are gone or going with the call
        entry.source = None
        entry.port = None
        if entry.station:
            entry.station.close()

    def _unbridge(self, entry: Leg) -> None:
        peer = self.legs.get(entry.peer) if entry.peer else None
        if peer is not None:
            _try(self._stop, entry.tx(), peer.rx())
            _try(self._stop, peer.tx(), entry.rx())
            peer.peer = None
        entry.peer = None

    # --- media ------------------------------------------------------------------------------------
    def media_changed(self, leg: str) -> None:
        entry = self.legs.get(leg)
        if entry is None or entry.call is None:
            return
        info = entry.call.getInfo()
        entry.media_ready = any(m.type == pj.PJMEDIA_TYPE_AUDIO and m.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                                for m in info.media)
        if entry.media_ready:
            self._apply(entry)

    def play(self, leg: str, prompts: list[str], token: int) -> None:
        entry = self.legs.get(leg)
        if entry is None:
            return
        files = [self.files[p] for p in prompts if p in self.files]
        missing = [p for p in prompts if p not in self.files]
        if missing:
            log.error("prompts %s have no audio file; skipped", missing)
        if not files:
            self.emit(ev.PlaybackDone(leg, token))
            return
        player = Player(self, leg, token)
        if len(files) == 1:
            player.createPlayer(files[0], pj.PJMEDIA_FILE_NO_LOOP)
        else:
            player.createPlaylist(files, f"p{token}", pj.PJMEDIA_FILE_NO_LOOP)
        self._hear(entry, player)

    def music(self, leg: str, prompt: str | None) -> None:
        entry = self.legs.get(leg)
        if entry is None:
            return
        path = self.files.get(prompt) if prompt else None
        player = None
        if path:
            player = self.music_players.get(path)
            if player is None:  # one shared looping player per music file, for every caller
                player = pj.AudioMediaPlayer()
                player.createPlayer(path, 0)
                self.music_players[path] = player
        self._hear(entry, player)

    def _hear(self, entry: Leg, source) -> None:
        if source is not None and entry.station:
            entry.station.connect()  # what a station is played, it hears in its headset: off hook
        rx = entry.rx()
        if entry.source is not None and rx is not None:
            _try(entry.source.stopTransmit, rx)
        entry.source = source
        self._apply(entry)

    def bridge(self, a: str, b: str) -> None:
        la, lb = self.legs.get(a), self.legs.get(b)
        if la is None or lb is None:
            return
        for entry in (la, lb):
            self._hear(entry, None)
        la.peer, lb.peer = b, a
        if lb.station:
            lb.station.connect()
        self._apply(la)
        self._apply(lb)

    def start_recording(self, key: str, legs: list[str], path: str) -> None:
        recorder = pj.AudioMediaRecorder()
        try:
            recorder.createRecorder(path)
        except pj.Error as exc:
            log.error("cannot record to %s: %s", path, exc.reason)
            self.emit(ev.RecordingFailed(key, f"cannot create {path}: {exc.reason.strip()}"))
            return
        self.recorders[key] = recorder
        self.recording_paths[key] = path
        for name in legs:
            self.record_leg(key, name)

    def record_leg(self, key: str, leg: str) -> None:
        entry = self.legs.get(leg)
        if entry is not None and key in self.recorders:
            entry.recorders.add(key)
            self._apply(entry)

    def stop_recording(self, key: str) -> None:
        recorder = self.recorders.pop(key, None)
        if recorder is None:
            return
        for entry in self.legs.values():
            if key in entry.recorders:
                entry.recorders.discard(key)
                tx = entry.tx()
                if tx is not None:
                    _try(tx.stopTransmit, recorder)
        del recorder  # closes the file and writes the WAV header
        path = self.recording_paths.pop(key, None)
        if path:
            recordings.finish(path)  # a write that failed (disk full) may have left sizes that do not match

    def _apply(self, entry: Leg) -> None:
        """(Re)make every transmission this leg takes part in, from its declared state."""
        tx, rx = entry.tx(), entry.rx()
        if rx is not None and entry.source is not None:
            _try(entry.source.startTransmit, rx)
        peer = self.legs.get(entry.peer) if entry.peer else None
        if peer is not None:
            ptx, prx = peer.tx(), peer.rx()
            if tx is not None and prx is not None:
                _try(tx.startTransmit, prx)
            if ptx is not None and rx is not None:
                _try(ptx.startTransmit, rx)
        if tx is not None:
            for key in entry.recorders:
                if key in self.recorders:
                    _try(tx.startTransmit, self.recorders[key])

    @staticmethod
    def _stop(tx, rx) -> None:
        if tx is not None and rx is not None:
            tx.stopTransmit(rx)
