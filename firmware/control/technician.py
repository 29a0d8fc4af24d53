"""Control-socket commands for the technician's tests. The engine loop only starts them (and answers
at once); the waiting, the OPTIONS ping and the level measurement happen here, on the connection's
thread, so the loop never stalls for the seconds a test takes."""

from __future__ import annotations

from firmware import events as ev, headset_files, linetest

LINE_TEST_WAIT_S = 40     # the modem test: commands, up to ~5 s off hook, hanging up
HEADSET_TEST_EXTRA_S = 15


def line_test(server, req: dict) -> dict:
    started = server._ask(ev.LineTest(str(req["name"])))
    pending = started.pop("pending", None)
    if pending is not None:
        return {**started, **pending.result(LINE_TEST_WAIT_S)}
    target = started["target"]
    ping = linetest.options_ping(target["host"], target["port"]) if "host" in target else None
    ok, verdict = linetest.describe_sip(started["name"], target, ping)
    return {**started, "ping": ping, "ok": ok, "verdict": verdict}


def headset_test(server, req: dict) -> dict:
    seconds = float(req.get("seconds", 5))
    started = server._ask(ev.HeadsetTest(str(req["operator"]), seconds))
    result = started.pop("pending").result(seconds + HEADSET_TEST_EXTRA_S)
    from firmware import headset_check  # numpy: loaded by the first test, not at the engine's start (issue 9)
    return {**started, **headset_check.check(result)}


def panel_presses(server, req: dict) -> dict:
    if server.buttons is None:
        raise ValueError("this engine shows no button presses")
    return server.buttons.since(int(req.get("since", 0)))


def headset_level(server, req: dict) -> dict:
    """The microphone's level right now, while a headset test runs (read from its recording)."""
    operator = str(req["operator"])
    if "/" in operator or operator.startswith("."):
        raise ValueError(f"{operator!r} is not an operator's name")
    path = headset_files.mic_path(server.data_dir / headset_files.FOLDER, operator)
    from firmware import headset_check  # numpy, as above
    return {"level": headset_check.latest(str(path), float(req.get("since", 0)))}
