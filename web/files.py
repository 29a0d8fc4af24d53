"""The web admin's own small files in <data_dir>/web (never the SQLite store, which only the engine
writes): the admin password hash, the one-time setup code and the session secret key.

    admin.json   {"password_hash": "scrypt:...", "set_at": "..."}, written atomically (tmp + replace)
    setup-code   XXXX-XXXX, made on first need while no password is set; deleted once one is set
    secret_key   random, made once; signs the session cookies (so sessions survive a restart)
    url          where `switchboard web` listens (for `switchboard status`)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from firmware.timeutil import iso_now

SETUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a terminal, typed on a phone
MIN_PASSWORD = 10


class WebFiles:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.admin_path = self.folder / "admin.json"
        self.setup_path = self.folder / "setup-code"
        self.key_path = self.folder / "secret_key"
        self.url_path = self.folder / "url"

    def _ensure_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)

    def _create_private(self, path: Path, text: str) -> str:
        """Write a new 0600 file; if another process made it first, keep theirs."""
        self._ensure_folder()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        return text

    def _replace_private(self, path: Path, text: str) -> None:
        self._ensure_folder()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    # -- the session key ---------------------------------------------------------------------------
    def secret_key(self) -> str:
        if self.key_path.exists():
            return self.key_path.read_text().strip()
        return self._create_private(self.key_path, secrets.token_hex(32))

    # -- the admin password ------------------------------------------------------------------------
    def _admin(self) -> dict:
        try:
            return json.loads(self.admin_path.read_text())
        except FileNotFoundError:
            return {}

    def has_password(self) -> bool:
        return bool(self._admin().get("password_hash"))

    def check_password(self, password: str) -> bool:
        stored = self._admin().get("password_hash")
        return bool(stored) and check_password_hash(stored, password)

    def set_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
        record = {"password_hash": generate_password_hash(password, method="scrypt"), "set_at": iso_now()}
        self._replace_private(self.admin_path, json.dumps(record, indent=2) + "\n")
        self.setup_path.unlink(missing_ok=True)

    def password_stamp(self) -> str:
        """Changes whenever the password does: sessions carry it, so a new password ends old sessions."""
        stored = self._admin().get("password_hash", "")
        return hashlib.sha256(stored.encode()).hexdigest()[:16]

    # -- the one-time setup code -------------------------------------------------------------------
    def setup_code(self) -> str:
        """The code the first visitor must give to set the password (made now if there is none)."""
        if self.setup_path.exists():
            return self.setup_path.read_text().strip()
        code = "".join(secrets.choice(SETUP_ALPHABET) for _ in range(8))
        return self._create_private(self.setup_path, f"{code[:4]}-{code[4:]}")

    def check_setup_code(self, given: str) -> bool:
        if not self.setup_path.exists():
            return False
        want = _normal(self.setup_code())
        return hmac.compare_digest(_normal(given).encode(), want.encode())

    # -- where the web listens ---------------------------------------------------------------------
    def write_url(self, url: str) -> None:
        self._replace_private(self.url_path, url + "\n")


def _normal(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())
