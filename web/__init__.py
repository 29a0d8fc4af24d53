"""The web admin: a Flask app (`create_app`) served by waitress as its own process, `switchboard web`.
It reads the store read-only and changes the box only through the engine's control socket."""

from web.app import create_app

__all__ = ["create_app"]
