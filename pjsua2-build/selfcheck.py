"""Runs an installed pjsua2 build for real: the engine's Endpoint settings with the build's own call
limit, its build report (firmware/telephony/capacity.py), then one SIP call over loopback UDP from
the endpoint to itself (INVITE, 200, ACK), a tone sent from the calling leg and RTP counted at the
answering leg, and BYE. Each step is printed with its time.

    python selfcheck.py [--capacity PATH/TO/capacity.py]

Standard library and pjsua2 only, so it runs where only the wheel is installed: the arm64 root
filesystem of pjsua2-build/check_aarch64.sh (under qemu), a Pi, or this machine's venv. Exit 1 with
the reason when a step fails. One process holds one pjsua2 Endpoint, so both legs share it.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path

STEP_LIMIT_S = 60.0
"""Wait at most this long for any one SIP step (qemu on a loaded machine is slow, not stuck)."""
RTP_SECONDS = 2.0
"""How long the tone plays before the answering leg's RTP count is read."""

_started = time.monotonic()
_step_start = _started


def step(text: str) -> None:
    global _step_start
    now = time.monotonic()
    print(f"[{now - _started:7.2f} s] (+{now - _step_start:5.2f} s) {text}", flush=True)
    _step_start = now


def load_capacity(path: str | None):
    """The engine's build report: its module by file path (no need for the whole product)."""
    if path is None:
        from firmware.telephony import capacity
        return capacity
    spec = importlib.util.spec_from_file_location("switchboard_capacity", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--capacity", help="path of firmware/telephony/capacity.py (default: import it)")
    args = ap.parse_args()

    step(f"python {platform.python_version()} on {platform.machine()}")
    import pjsua2 as pj
    step(f"import pjsua2 from {pj.__file__}")
    capacity = load_capacity(args.capacity)
    info_path = Path(pj.__file__).with_name(capacity.BUILD_INFO)
    info = json.loads(info_path.read_text()) if info_path.exists() else {}

    state = {"answered": [], "confirmed": 0, "disconnected": 0, "media": 0}
    calls: list = []

    class Call(pj.Call):
        def onCallState(self, prm):
            try:
                ci = self.getInfo()
                if ci.state == pj.PJSIP_INV_STATE_CONFIRMED:
                    state["confirmed"] += 1
                elif ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                    state["disconnected"] += 1
            except Exception as exc:  # an exception escaping a callback is swallowed by SWIG
                print(f"onCallState: {exc!r}", file=sys.stderr)

        def onCallMediaState(self, prm):
            try:
                if self is caller and tone is not None:
                    tone.startTransmit(self.getAudioMedia(-1))
                state["media"] += 1
            except Exception as exc:
                print(f"onCallMediaState: {exc!r}", file=sys.stderr)

    class Account(pj.Account):
        def onIncomingCall(self, prm):
            try:
                call = Call(self, prm.callId)
                calls.append(call)  # without a reference pjsua2 rejects the call
                op = pj.CallOpParam()
                op.statusCode = 200
                call.answer(op)
                state["answered"].append(call)
            except Exception as exc:
                print(f"onIncomingCall: {exc!r}", file=sys.stderr)

    ep = pj.Endpoint()
    ep.libCreate()
    build = capacity.detect(pj, ep.libVersion().full)
    # The engine's settings (firmware/telephony/sip.py, PjsuaTelephony.start).
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.maxCalls = build.max_calls
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = 1
    cfg.medConfig.clockRate = 8000
    cfg.medConfig.sndClockRate = 8000
    cfg.medConfig.ecTailLen = 0
    cfg.medConfig.noVad = True
    ep.libInit(cfg)
    step(f"Endpoint created and initialised: pjsua2 {build.version}, {build.name}, max_calls "
         f"{build.max_calls}, limits {json.dumps(info.get('limits', {}))}, built for "
         f"{info.get('machine', '?')}")

    tcfg = pj.TransportConfig()
    tcfg.port = 0
    tcfg.boundAddress = "127.0.0.1"
    tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
    ep.libStart()
    ep.audDevManager().setNullDev()
    codecs = sorted(c.codecId for c in ep.codecEnum2())
    for codec in codecs:
        ep.codecSetPriority(codec, {"PCMU/8000/1": 255, "PCMA/8000/1": 254}.get(codec, 0))
    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:selfcheck@127.0.0.1:{port}"
    account = Account()
    account.create(acfg, True)
    sound = [d.name for d in ep.audDevManager().enumDev2()]
    step(f"SIP on 127.0.0.1:{port} (UDP); codecs {' '.join(codecs)}; sound devices {sound or 'none'}")

    tone = pj.ToneGenerator()
    tone.createToneGenerator(8000, 1)
    tones = pj.ToneDescVector()
    desc = pj.ToneDesc()
    desc.freq1, desc.freq2, desc.on_msec, desc.off_msec = 1000, 0, 1000, 0
    tones.append(desc)
    tone.play(tones, True)

    def pump_until(what: str, done) -> None:
        deadline = time.monotonic() + STEP_LIMIT_S
        while not done():
            if time.monotonic() > deadline:
                raise SystemExit(f"selfcheck: FAILED: no {what} within {STEP_LIMIT_S:.0f} s")
            ep.libHandleEvents(10)

    caller = Call(account)
    calls.append(caller)
    op = pj.CallOpParam(True)
    caller.makeCall(f"sip:callee@127.0.0.1:{port}", op)
    pump_until("answer and ACK on both legs", lambda: state["confirmed"] >= 2 and state["media"] >= 2)
    step("call set up over loopback: INVITE, 200 OK, ACK; media on both legs")

    answered = state["answered"][0]
    end = time.monotonic() + RTP_SECONDS
    while time.monotonic() < end:
        ep.libHandleEvents(10)
    rx = answered.getStreamStat(0).rtcp.rxStat
    rtp_packets, rtp_lost = int(rx.pkt), int(rx.loss)
    codec = str(answered.getStreamInfo(0).codecName)
    del rx
    step(f"RTP: the answering leg received {rtp_packets} packets ({codec}) of the caller's tone in "
         f"{RTP_SECONDS:.0f} s, {rtp_lost} lost")
    if rtp_packets == 0:
        raise SystemExit("selfcheck: FAILED: no RTP reached the answering leg")

    caller.hangup(pj.CallOpParam(True))
    pump_until("BYE on both legs", lambda: state["disconnected"] >= 2)
    step("call ended (BYE, 200 OK)")

    # Nothing pjsua2 may outlive libDestroy() (see the pjsua2 reference): drop every object first.
    state["answered"].clear()
    del answered, caller, tone, calls[:]
    account.shutdown()
    del account
    gc.collect()
    ep.libDestroy()
    step("endpoint destroyed")
    print(json.dumps({"selfcheck": "ok", "machine": platform.machine(), "pjsua2": build.version,
                      "build": build.name, "max_calls": build.max_calls, "rtp_packets": rtp_packets}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
