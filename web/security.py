"""Sessions, CSRF, log-in rate limiting and security headers.

Every endpoint needs a logged-in session except those in PUBLIC_ENDPOINTS; every request that is not
GET/HEAD/OPTIONS must carry the session's CSRF token (a hidden form field or the X-CSRF-Token header).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from typing import Callable

from flask import Flask, abort, current_app, jsonify, redirect, render_template, request, session, url_for

PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.setup", "static"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class LoginLimiter:
    """Per client address: `max_failures` failed log-ins (or setup codes) within `window_s` lock that
    address out for `lockout_s`. Kept in memory: a restart of the web admin forgets it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_failures: int = 5,
                 window_s: float = 600, lockout_s: float = 600):
        self.clock, self.max_failures, self.window_s, self.lockout_s = clock, max_failures, window_s, lockout_s
        self._failures: dict[str, deque] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()  # waitress serves requests on several threads

    def locked_for(self, address: str) -> float:
        """Seconds this address must still wait (0 when it may try)."""
        with self._lock:
            left = self._locked_until.get(address, 0.0) - self.clock()
            if left <= 0:
                self._locked_until.pop(address, None)
            return max(0.0, left)

    def failed(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            recent = self._failures.setdefault(address, deque())
            recent.append(now)
            while recent and recent[0] <= now - self.window_s:
                recent.popleft()
            if len(recent) >= self.max_failures:
                self._locked_until[address] = now + self.lockout_s
                del self._failures[address]

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def logged_in() -> bool:
    files = current_app.extensions["switchboard"].files
    return session.get("user") == "admin" and files.has_password() and hmac.compare_digest(
        session.get("stamp", ""), files.password_stamp())


def log_in() -> None:
    """Start a fresh session (a new CSRF token too: no fixation across the log-in)."""
    session.clear()
    session.permanent = True
    session["user"] = "admin"
    session["stamp"] = current_app.extensions["switchboard"].files.password_stamp()
    csrf_token()


def _require_login():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if logged_in():
        return None
    if request.path.startswith("/api/"):
        return jsonify(error="not logged in"), 401
    files = current_app.extensions["switchboard"].files
    if not files.has_password():
        return redirect(url_for("auth.setup"))
    if request.method in SAFE_METHODS:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("auth.login"))


def _check_csrf():
    if request.method in SAFE_METHODS:
        return None
    want = session.get(CSRF_FIELD)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not want or not hmac.compare_digest(given.encode(), want.encode()):
        abort(400, description="The form was missing its security token or it had expired. "
                               "Go back, reload the page and try again.")
    return None


def _headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static" and response.mimetype in ("text/html", "application/json", "text/csv"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _error(error):
    code = getattr(error, "code", 500) or 500
    if request.path.startswith("/api/"):
        return jsonify(error=error.description), code
    return render_template("error.html", code=code, name=error.name, description=error.description), code


def init_app(app: Flask) -> None:
    app.before_request(_require_login)
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.context_processor(lambda: {"csrf_token": csrf_token, "logged_in": logged_in})
    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, _error)
