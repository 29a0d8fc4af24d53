"""The configuration as forms, one per section: lines, IVR menus (with the menu tree), prompts (typed
text for speech, an uploaded recording, or a tone; played in the browser), queues, operators and
stations, business hours with holidays and the day/night switch.

Every save builds a whole new document from the stored one with one item replaced, and sends it to
the engine like the TOML editor does (validated by the settings schema, saved in one transaction,
applied with a reload): all or nothing. A refusal shows each problem beside its field and keeps what
was typed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for

from firmware.control.client import ControlError, EngineNotRunning
from web import confdoc, saving
from web.box import box

bp = Blueprint("forms", __name__)

AUDIO_TYPES = {".wav", ".mp3", ".ogg", ".flac", ".au", ".aiff", ".aif"}
"""What sox reads on Debian (libsox-fmt-all not needed for these but mp3)."""
MAX_PROMPT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    noun: str
    build: Callable
    template: str


SECTIONS = {
    "lines": Section("lines", "Lines", "line", confdoc.line_from_form, "config_line.html"),
    "menus": Section("menus", "IVR menus", "menu", confdoc.menu_from_form, "config_menu.html"),
    "prompts": Section("prompts", "Prompts", "prompt", confdoc.prompt_from_form, "config_prompt.html"),
    "queues": Section("queues", "Queues", "queue", confdoc.queue_from_form, "config_queue.html"),
    "operators": Section("operators", "Operators and stations", "operator", confdoc.operator_from_form,
                         "config_operator.html"),
    "mailboxes": Section("mailboxes", "Voicemail boxes", "mailbox", confdoc.mailbox_from_form, "config_mailbox.html"),
}


def _section(key: str) -> Section:
    if key not in SECTIONS:
        abort(404, description=f"There is no configuration section {key!r}.")
    return SECTIONS[key]


def _stored() -> tuple[dict, int | None]:
    text, config_id = saving.current()
    try:
        return confdoc.load(text), config_id
    except ValueError:  # a stored text the engine accepted is TOML; this is only a guard
        abort(409, description="The stored configuration is not readable TOML: fix it in the TOML editor.")


def _context(doc: dict) -> dict:
    """What every form page offers in its choice lists."""
    return {"prompt_names": list(doc.get("prompts", {})), "menu_names": [m.get("name") for m in doc.get("menus", [])],
            "operator_list": doc.get("operators", []), "destinations": confdoc.destination_choices(doc),
            "sections": SECTIONS}


@bp.route("/config")
def overview():
    doc, _ = _stored()
    status, engine_error = box().status()
    return render_template("config_overview.html", doc=doc, tree=confdoc.menu_tree(doc),
                           unreached=confdoc.unreached_menus(doc), hours=status["hours"] if status else None,
                           engine_error=engine_error, **_context(doc))


@bp.route("/config/<section>")
def listing(section: str):
    sec = _section(section)
    doc, _ = _stored()
    return render_template("config_section.html", section=sec, rows=confdoc.items(doc, section), **_context(doc))


@bp.route("/config/<section>/new", methods=["GET", "POST"])
@bp.route("/config/<section>/<name>/edit", methods=["GET", "POST"])
def edit(section: str, name: str | None = None):
    sec = _section(section)
    doc, config_id = _stored()
    found = confdoc.find(doc, section, name) if name is not None else None
    if name is not None and found is None:
        abort(404, description=f"There is no {sec.noun} {name!r} in the configuration.")
    old = found[1] if found else {}
    if request.method == "GET":
        return _form(sec, doc, old, name, config_id)
    upload, problem = _take_upload(sec) if section == "prompts" else (None, None)
    built = sec.build(request.form, upload) if section == "prompts" else sec.build(request.form)
    item = built if section == "prompts" else confdoc.merged(old, built)
    if section == "operators":
        realm = (doc.get("edge") or {}).get("realm") or confdoc.DEFAULT_REALM
        refused = confdoc.sip_password(request.form, old, item, realm, confdoc.ha1)
        if refused:
            return _form(sec, doc, item, name, saving.base_id_of_form(), code=400,
                         placed=confdoc.Placed(fields=refused), error="Not saved: check the SIP password.")
    if problem:
        return _form(sec, doc, item, name, saving.base_id_of_form(), code=400,
                     placed=confdoc.Placed(fields={"file": [problem]}), error="Not saved: the file was not taken.")
    new_doc, index = confdoc.replace(doc, section, name, item)
    outcome = saving.save(confdoc.dump(new_doc), saving.base_id_of_form(), force=request.form.get("force") == "1",
                          what=sec.noun)
    if not outcome.ok:
        if upload and not _used(upload, doc):
            Path(upload).unlink(missing_ok=True)  # nothing was saved; do not keep the file either
        placed = confdoc.place(outcome.problems, section, index, item.get("name"))
        return _form(sec, doc, item, name, saving.base_id_of_form(), code=outcome.code, placed=placed,
                     error=outcome.error, conflict=outcome.conflict)
    flash(f"{sec.noun.capitalize()} {item.get('name')}: {outcome.message}", "ok")
    return redirect(url_for("forms.listing", section=section) if section != "menus" else url_for("forms.overview"))


@bp.route("/config/<section>/<name>/delete", methods=["POST"])
def delete(section: str, name: str):
    sec = _section(section)
    doc, _ = _stored()
    found = confdoc.find(doc, section, name)
    if found is None:
        abort(404, description=f"There is no {sec.noun} {name!r} in the configuration.")
    outcome = saving.save(confdoc.dump(confdoc.remove(doc, section, name)), saving.base_id_of_form(),
                          what=f"deletion of {sec.noun} {name}")
    if not outcome.ok:
        placed = confdoc.Placed(others=[{"key": k, "value": v, "reason": r} for k, v, r in outcome.problems])
        return _form(sec, doc, found[1], name, saving.base_id_of_form(), code=outcome.code, placed=placed,
                     error=f"{sec.noun.capitalize()} {name} was not deleted. " + (outcome.error or ""))
    flash(f"{sec.noun.capitalize()} {name} deleted. {outcome.message}", "ok")
    return redirect(url_for("forms.listing", section=section))


def _form(sec: Section, doc: dict, item: dict, name: str | None, base_id, code: int = 200,
          placed: confdoc.Placed | None = None, error: str | None = None, conflict: bool = False):
    return render_template(sec.template, section=sec, item=item, name=name, base_id=base_id,
                           errors=placed or confdoc.Placed(), error=error, conflict=conflict, **_context(doc)), code


# --- prompts: uploads and playing -----------------------------------------------------------------

def _uploads() -> Path:
    return box().data_dir / "prompt-uploads"


def _take_upload(sec: Section) -> tuple[str | None, str | None]:
    """Store an uploaded prompt recording under <data>/prompt-uploads (named by its content, so a new
    recording never replaces the file a saved configuration still uses); (path, None) or (None, why)."""
    if request.form.get("source") != "file":
        return None, None
    upload = request.files.get("upload")
    if upload is None or not upload.filename:
        return (None, None) if request.form.get("file") else (None, "Choose an audio file to upload.")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in AUDIO_TYPES:
        return None, f"{upload.filename}: not an audio file the box can read ({', '.join(sorted(AUDIO_TYPES))})."
    data = upload.read(MAX_PROMPT_BYTES + 1)
    if not data:
        return None, f"{upload.filename} is empty."
    if len(data) > MAX_PROMPT_BYTES:
        return None, f"{upload.filename} is larger than {MAX_PROMPT_BYTES // 2**20} MB."
    folder = _uploads()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return str(path), None


def _used(path: str, doc: dict) -> bool:
    return any(p.get("file") == path for p in doc.get("prompts", {}).values())


@bp.route("/config/prompts/<name>/audio")
def prompt_audio(name: str):
    """The prompt as the box plays it (the 8 kHz WAV the engine made when the configuration was saved)."""
    try:
        files = box().command("prompt_files", timeout=10)
    except EngineNotRunning:
        abort(503, description="The engine is not running: prompts are made and kept by the engine.")
    except ControlError as exc:
        abort(404, description=str(exc))
    if name not in files:
        abort(404, description=f"Prompt {name} has not been made (is it in the saved configuration?).")
    folder = (box().data_dir / "prompts").resolve()
    path = Path(files[name]).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        abort(404, description=f"The file of prompt {name} is missing.")
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


# --- business hours and the day/night switch ------------------------------------------------------

@bp.route("/config/hours", methods=["GET", "POST"])
def hours():
    doc, config_id = _stored()
    status, engine_error = box().status()
    now = status["hours"] if status else None
    if request.method == "GET":
        return _hours_page(doc, doc.get("hours", {}), config_id, now, engine_error)
    item = confdoc.merged(doc.get("hours", {}), confdoc.hours_from_form(request.form))
    new_doc = {**doc, "hours": item}
    outcome = saving.save(confdoc.dump(new_doc), saving.base_id_of_form(), force=request.form.get("force") == "1",
                          what="business hours")
    if not outcome.ok:
        return _hours_page(doc, item, saving.base_id_of_form(), now, engine_error, code=outcome.code,
                           placed=confdoc.place(outcome.problems, "hours"), error=outcome.error,
                           conflict=outcome.conflict)
    flash(f"Business hours: {outcome.message}", "ok")
    return redirect(url_for("forms.hours"))


def _hours_page(doc, item, base_id, now, engine_error, code=200, placed=None, error=None, conflict=False):
    return render_template("config_hours.html", item=item, base_id=base_id, hours=now, engine_error=engine_error,
                           errors=placed or confdoc.Placed(), error=error, conflict=conflict, days=confdoc.DAYS,
                           **_context(doc)), code


# --- recording: disclosure and retention ----------------------------------------------------------

RECORDING_FIELDS = ("keep_days", "max_total_mb", "keep_free_mb")


@bp.route("/config/recording", methods=["GET", "POST"])
def recording():
    doc, config_id = _stored()
    if request.method == "GET":
        return _recording_page(doc, doc.get("recording", {}), config_id)
    updates = {"disclosure_prompt": confdoc.text(request.form.get("disclosure_prompt")),
               **{k: confdoc.number(request.form.get(k)) for k in RECORDING_FIELDS}}
    item = confdoc.merged(doc.get("recording", {}), updates)
    outcome = saving.save(confdoc.dump({**doc, "recording": item}), saving.base_id_of_form(),
                          force=request.form.get("force") == "1", what="recording settings")
    if not outcome.ok:
        return _recording_page(doc, item, saving.base_id_of_form(), code=outcome.code, error=outcome.error,
                               placed=confdoc.place(outcome.problems, "recording"), conflict=outcome.conflict)
    flash(f"Recording: {outcome.message}", "ok")
    return redirect(url_for("forms.recording"))


def _recording_page(doc, item, base_id, code=200, placed=None, error=None, conflict=False):
    return render_template("config_recording.html", item=item, base_id=base_id, errors=placed or confdoc.Placed(),
                           error=error, conflict=conflict, **_context(doc)), code
