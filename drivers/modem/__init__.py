"""Analog phone lines through USB voice modems (V.253).

    modem = Modem("/dev/ttyACM0", on_event, ModemSettings())   # or a pty path, or socket://host:port
    modem.start()                       # connects in the background, reopens after unplugging
    # on_event receives LineEvent / ModemFault objects on driver threads: only queue them.
    # during a call, a media port pops modem.rx and pushes modem.tx: 320-byte 20 ms frames,
    # 16-bit little-endian mono at 8 kHz.

Pure parts: `protocol` (bytes -> events), `line` (the state machine), `tones` (busy-tone cadence),
`audio` (sample formats, frame buffers), `quirks` (per-model constants). I/O shell: `transport`,
`channel`, `voice`, `modem`. `simulator` is a modem on a pty for tests and for running without one.
"""

from drivers.modem.audio import FRAME_BYTES, BufferStats, FrameBuffer
from drivers.modem.errors import ModemError, PortLost
from drivers.modem.line import (CallConnected, CallEnded, CallerIdReceived, DigitReceived, HangupCause,
                                LineChanged, LineEvent, LinePolicy, LineState, Ringing)
from drivers.modem.modem import Modem, ModemFault, ModemSettings
from drivers.modem.protocol import CallerId
from drivers.modem.tones import BusyToneSpec

__all__ = [
    "FRAME_BYTES", "BufferStats", "BusyToneSpec", "CallConnected", "CallEnded", "CallerId",
    "CallerIdReceived", "DigitReceived", "FrameBuffer", "HangupCause", "LineChanged", "LineEvent",
    "LinePolicy", "LineState", "Modem", "ModemError", "ModemFault", "ModemSettings", "PortLost", "Ringing",
]
