"""Operators' SIP credentials as the edge reads them: a db_text `subscriber` table holding only
digest HA1 values (MD5 of user:realm:password, what RFC 2617 digest needs), never a password."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from firmware.settings import Settings

SUBSCRIBER_HEADER = ("id(int,auto) username(string) domain(string,null) password(string,null) ha1(string) "
                     "ha1b(string,null)")
VERSION_HEADER = "id(int,auto) table_name(string) table_version(int)"
SUBSCRIBER_VERSION = 7  # the table version Kamailio 5.x's auth_db checks


def ha1(username: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


def subscribers(settings: Settings) -> list[tuple[str, str]]:
    """(username, ha1) for every operator that registers and has a password set."""
    return [(op.username, op.ha1) for op in settings.operators if op.username and op.ha1]


def subscriber_table(settings: Settings) -> str:
    rows = [f"{i}:{user}:::{digest}:" for i, (user, digest) in enumerate(subscribers(settings), 1)]
    return "\n".join([SUBSCRIBER_HEADER, *rows]) + "\n"


def version_table() -> str:
    return f"{VERSION_HEADER}\n0:subscriber:{SUBSCRIBER_VERSION}\n"


def write_tables(settings: Settings, db_dir: Path) -> bool:
    """Write the tables (atomically, readable by the owner only); True when the subscribers changed."""
    db_dir.mkdir(parents=True, exist_ok=True)
    changed = False
    for name, text in (("version", version_table()), ("subscriber", subscriber_table(settings))):
        path = db_dir / name
        if path.exists() and path.read_text() == text:
            continue
        before = path.stat().st_mtime if path.exists() else None
        tmp = path.with_suffix(".tmp")
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(text)
        os.replace(tmp, path)
        # Kamailio re-reads a table when its modification time (in whole seconds) changes: two writes
        # within one second must still look different.
        if before is not None and int(path.stat().st_mtime) <= int(before):
            os.utime(path, (int(before) + 1, int(before) + 1))
        changed = changed or name == "subscriber"
    return changed
