"""First-run setup (one-time code -> admin password), log-in with lock-out, log-out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from web.box import box
from web.files import MIN_PASSWORD
from web.security import log_in, logged_in

bp = Blueprint("auth", __name__)


def _client() -> str:
    return request.remote_addr or "unknown"


def _locked_page(template: str, seconds: float, **context):
    minutes = max(1, round(seconds / 60))
    error = f"Too many failed attempts from this address. Try again in {minutes} minute{'s' * (minutes != 1)}."
    return render_template(template, error=error, locked=True, **context), 429


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.index")


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    files = box().files
    if files.has_password():
        return redirect(url_for("auth.login"))
    context = {"min_password": MIN_PASSWORD, "code_file": files.setup_path}
    if request.method == "GET":
        files.setup_code()
        return render_template("setup.html", **context)
    limiter, client = box().limiter, _client()
    if (left := limiter.locked_for(client)) > 0:
        return _locked_page("setup.html", left, **context)
    password, again = request.form.get("password", ""), request.form.get("password_again", "")
    if not files.check_setup_code(request.form.get("code", "")):
        limiter.failed(client)
        return render_template("setup.html", error="That setup code is not right.", **context), 403
    if password != again:
        return render_template("setup.html", error="The two passwords differ.", **context), 400
    try:
        files.set_password(password)
    except ValueError as exc:
        return render_template("setup.html", error=str(exc).capitalize() + ".", **context), 400
    limiter.succeeded(client)
    session.clear()
    flash("The admin password is set. Log in with it.", "ok")
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    files = box().files
    if not files.has_password():
        return redirect(url_for("auth.setup"))
    target = request.values.get("next")
    if request.method == "GET":
        if logged_in():
            return redirect(_safe_next(target))
        return render_template("login.html", next=target)
    limiter, client = box().limiter, _client()
    if (left := limiter.locked_for(client)) > 0:
        return _locked_page("login.html", left, next=target)
    if not files.check_password(request.form.get("password", "")):
        limiter.failed(client)
        if (left := limiter.locked_for(client)) > 0:
            return _locked_page("login.html", left, next=target)
        return render_template("login.html", error="Wrong password.", next=target), 403
    limiter.succeeded(client)
    log_in()
    return redirect(_safe_next(target))


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    flash("Logged out.", "ok")
    return redirect(url_for("auth.login"))
