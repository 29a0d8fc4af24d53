"""The SIP edge in the web admin: its `[edge]` settings as a form (Configuration), and on the System
page what the running edge reports (bans, refused requests, registered phones) with an unban button.
Operators' SIP passwords are set on the operator form (web/confdoc.py sip_password)."""

from __future__ import annotations

import ipaddress

from flask import Blueprint, flash, redirect, render_template, request, url_for

from firmware.control.client import ControlError, EngineNotRunning
from web import confdoc, saving
from web.box import box
from web.config_forms import _context, _stored

bp = Blueprint("forms_edge", __name__)
admin_bp = Blueprint("system_edge", __name__)

NUMBERS = ("engine_port", "internal_port", "register_expires_s", "flood_requests", "flood_window_s",
           "ban_after_failures", "failure_window_s", "ban_s")


def edge_from_form(form) -> dict | None:
    """The [edge] table the form describes; None when the edge is switched off."""
    if form.get("enabled") != "on":
        return None
    agents = [a.strip() for a in (form.get("scanner_agents") or "").splitlines() if a.strip()]
    return {**{k: confdoc.number(form.get(k)) for k in NUMBERS}, "realm": confdoc.text(form.get("realm")),
            "trusted": confdoc.words(form.get("trusted")), "scanner_agents": agents or None}


@bp.route("/config/edge", methods=["GET", "POST"])
def edit():
    doc, config_id = _stored()
    if request.method == "GET":
        return _page(doc, doc.get("edge"), config_id)
    built = edge_from_form(request.form)
    old = doc.get("edge")
    item = None if built is None else confdoc.merged(old or {}, built)
    new_doc = {k: v for k, v in doc.items() if k != "edge"} | ({"edge": item} if item is not None else {})
    outcome = saving.save(confdoc.dump(new_doc), saving.base_id_of_form(), force=request.form.get("force") == "1",
                          what="SIP edge settings")
    if not outcome.ok:
        return _page(doc, item if item is not None else {}, saving.base_id_of_form(), code=outcome.code,
                     placed=confdoc.place(outcome.problems, "edge"), error=outcome.error, conflict=outcome.conflict,
                     enabled=item is not None)
    flash(f"SIP edge: {outcome.message}", "ok")
    return redirect(url_for("forms_edge.edit"))


def _page(doc, item, base_id, code=200, placed=None, error=None, conflict=False, enabled=None):
    return render_template("config_edge.html", item=item or {}, enabled=item is not None if enabled is None else enabled,
                           base_id=base_id, errors=placed or confdoc.Placed(), error=error, conflict=conflict,
                           **_context(doc)), code


@admin_bp.route("/system/edge/unban", methods=["POST"])
def unban():
    address = (request.form.get("address") or "").strip()
    try:
        ipaddress.ip_address(address)
    except ValueError:
        flash(f"Not unbanned: {address!r} is not an IP address.", "error")
        return redirect(url_for("system.index") + "#edge")
    try:
        result = box().command("edge_unban", address=address)
    except EngineNotRunning:
        flash("The engine is not running: the edge's bans are lifted through it.", "error")
    except ControlError as exc:
        flash(f"Not unbanned: {exc}", "error")
    else:
        flash(f"SIP edge: {result}.", "ok")
    return redirect(url_for("system.index") + "#edge")
