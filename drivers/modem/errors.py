"""Errors the modem driver raises."""


class ModemError(RuntimeError):
    """The modem answered ERROR, answered something that is not a modem's answer, or nothing in time."""


class PortLost(ModemError):
    """The serial port went away (device unplugged, pty closed); the driver will reopen it."""
