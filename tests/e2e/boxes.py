"""Configurations for end-to-end tests. Prompts are tones, so what a caller or operator heard can be
told apart by frequency in their recordings."""

from __future__ import annotations

from firmware import settings as settings_mod

GREETING_HZ, DISCLOSURE_HZ, MENU_HZ, MUSIC_HZ, BYE_HZ = 440, 520, 1000, 800, 350
STATION_HZ = {"st1": 1300, "st2": 1500, "st3": 2100}
CALLER_HZ, SIP_OPERATOR_HZ = 600, 1700


def box(operators=None, queue=None, menu=None, hours=None, sip=None, modem=False) -> str:
    operators = operators or [{"name": n, "kind": "station", "auto_answer_s": 1.5, "voice": f"voice-{n}"}
                              for n in ("st1",)]
    queue = {"name": "desk", "operators": [o["name"] for o in operators], "strategy": "linear",
             "ring_timeout_s": 3, "retry_delay_s": 0.5, "wrapup_s": 2, "max_wait_s": 60,
             "fallback": "message:bye", "music": "music", **(queue or {})}
    data = {
        "sip": {"address": "127.0.0.1", **(sip or {})},
        "prompts": {
            "greeting": {"tone_hz": GREETING_HZ, "seconds": 0.8},
            "disclosure": {"tone_hz": DISCLOSURE_HZ, "seconds": 0.8},
            "menu": {"tone_hz": MENU_HZ, "seconds": 1.0},
            "bye": {"tone_hz": BYE_HZ, "seconds": 1.0},
            "music": {"tone_hz": MUSIC_HZ, "seconds": 2.0},
            **{f"voice-{n}": {"tone_hz": hz, "seconds": 2.0} for n, hz in STATION_HZ.items()},
        },
        "recording": {"disclosure_prompt": "disclosure"},
        "lines": [{"name": "gw", "kind": "fxo_gateway", "allow": ["127.0.0.1"],
                   "routes": [{"number": "*", "greeting": "greeting", "day_menu": "main"}]}]
        + ([{"name": "analog", "kind": "modem", "device": "/dev/ttyACM0",
             "routes": [{"number": "*", "greeting": "greeting", "day_menu": "main"}]}] if modem else []),
        "menus": [{"name": "main", "prompt": "menu", "options": {"1": "queue:desk", "2": "message:bye"},
                   "timeout_s": 6, "retries": 1, "on_noinput": "hangup", "on_invalid": "hangup", **(menu or {})}],
        "queues": [queue],
        "operators": operators,
        **({"hours": hours} if hours else {}),
    }
    return settings_mod.to_toml(settings_mod.from_dict(data))
