"""The telephone exchange behind each simulated modem line, for `switchboard sim ring` and `sim line`:
rings, caller ID, a caller's voice and digits, and the ways a call ends (busy tone, loop-current
break, only silence). Made with the first simulated modem line (firmware/simulation.py): it brings the
modem simulator and numpy, which an engine with SIP lines only never loads (issue 9: RSS)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from drivers.modem.simulator import SimCallerId, SimulatedModem

FOREVER_S = 10 * 365 * 86400
RATE = 8000
MAX_AUDIO_S = 600
LINE_ACTIONS = ("ring", "dtmf", "voice", "busy", "silence", "loopbreak", "unplug", "replug", "heard", "dialtone")


def read_caller_audio(path: str) -> bytes:
    """A PCM WAV (8 or 16 bit, mono or stereo, any rate) as 8 kHz mono 16-bit PCM, for the caller's voice."""
    try:
        with wave.open(path, "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            data = w.readframes(min(w.getnframes(), rate * MAX_AUDIO_S))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as error:
        raise ValueError(f"{path}: not a PCM WAV file ({error})") from None
    if width not in (1, 2):
        raise ValueError(f"{path}: {8 * width}-bit samples; use 8- or 16-bit PCM")
    samples = (np.frombuffer(data, dtype=np.uint8).astype(np.float64) - 128) * 256 if width == 1 \
        else np.frombuffer(data, dtype="<i2").astype(np.float64)
    samples = samples[:len(samples) - len(samples) % channels].reshape(-1, channels).mean(axis=1)
    if not len(samples):
        raise ValueError(f"{path}: no audio in it")
    if rate != RATE:  # linear interpolation is enough for a test caller's voice
        count = int(len(samples) * RATE / rate)
        samples = np.interp(np.arange(count) * rate / RATE, np.arange(len(samples)), samples)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


class Exchange:
    """The simulated modems, one per line (each on a pty, opened by the driver like a real device)."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.modems: dict[str, SimulatedModem] = {}

    def modem(self, line: str) -> SimulatedModem:
        """A simulated modem for a line, on a pty; the driver opens `.path` like a real device (the same
        modem again when a reload reopens the line)."""
        if line in self.modems:
            return self.modems[line]
        sim = SimulatedModem(directory=str(self.data_dir / "modems" / line), lifetime=FOREVER_S)
        (self.data_dir / "modems" / line).mkdir(parents=True, exist_ok=True)
        sim.start()
        self.modems[line] = sim
        return sim

    def ring(self, line: str, caller_id: str = "", audio: str = "", digits: str = "",
             digit_delay: float = 4.0) -> str:
        """The exchange places a call on a line: caller ID (none when empty), the caller's voice from a
        WAV (looped; else what it played before), and DTMF digits `digit_delay` seconds after the answer."""
        sim = self._sim(line)
        if digits and any(d not in "0123456789*#ABCD" for d in digits):
            raise ValueError(f"digits {digits!r}: only 0-9, *, #, A-D")
        if not 0 <= digit_delay <= 120:
            raise ValueError("digit delay must be between 0 and 120 s")
        if audio:
            sim.phone.play_pcm(read_caller_audio(audio))
        sim.call(SimCallerId(number=caller_id) if caller_id else None, rings=3, digits=digits,
                 digit_delay=digit_delay)
        return (f"{line}: ringing, caller ID {caller_id or '(none)'}"
                f"{', digits ' + digits if digits else ''}{', voice from ' + audio if audio else ''}")

    def line(self, line: str, action: str, value: str = "", **options) -> str:
        """ring [caller number], dtmf DIGITS, voice HZ (the caller speaks a tone), busy (the caller
        hangs up: the exchange sends busy tone), loopbreak (hangs up with a loop-current break),
        silence (the caller goes quiet: only line noise), unplug / replug (the USB modem), heard FILE
        (what the caller heard, as a WAV), dialtone north_america|europe|none (none: a dead line)."""
        sim = self._sim(line)
        if action == "ring":
            return self.ring(line, options.get("caller_id", value or "5551234"), options.get("audio", ""),
                             options.get("digits", ""), float(options.get("digit_delay", 4.0)))
        if action == "dtmf":
            sim.dtmf(value)
        elif action == "voice":
            sim.phone.play_tone(float(value or 600))
        elif action == "busy":
            sim.busy_tone(dle=False, audio=True)
        elif action == "silence":
            sim.phone.play_line_noise()
        elif action == "loopbreak":
            sim.phone.play_line_noise()
            sim.loop_break()
        elif action == "unplug":
            sim.unplug()
        elif action == "replug":
            sim.replug()
        elif action == "dialtone":  # what the exchange gives off hook: north_america, europe, or none (dead line)
            sim.set_dial_tone(None if value in ("", "none") else value)
        elif action == "heard":
            with wave.open(value, "wb") as w:
                w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
                w.writeframes(sim.phone.heard())
        else:
            raise ValueError(f"unknown line action {action!r} ({', '.join(LINE_ACTIONS)})")
        return f"{line}: {action} {value}".strip()

    def close(self) -> None:
        for sim in self.modems.values():
            sim.close()

    def _sim(self, line: str) -> SimulatedModem:
        sim = self.modems.get(line)
        if sim is None:
            raise KeyError(f"no simulated modem line named {line!r}")
        return sim
