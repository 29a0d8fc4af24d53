"""The control socket: the one way into a running engine (JSON lines over a Unix socket)."""

SOCKET_NAME = "control.sock"
