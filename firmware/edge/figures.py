"""The edge's figures for `switchboard status`, from Kamailio's RPC answers (pure)."""

from __future__ import annotations

COUNTERS = ("bans", "dropped_banned", "scanners", "floods", "malformed", "auth_failures", "registers")


def htable_items(dump: list | None) -> dict:
    """htable.dump's answer (a list of slots) as {key: value}."""
    items = {}
    for entry in dump or []:
        for slot in entry.get("slot", []):
            items[slot["name"]] = slot["value"]
    return items


def registrations(ul_dump: dict | None) -> list[dict]:
    """ul.dump's answer as [{user, contact, expires, user_agent}], by user name."""
    found = []
    for domain in (ul_dump or {}).get("Domains", []):
        for aor in domain.get("Domain", {}).get("AoRs", []) or []:
            info = aor.get("Info", {})
            for contact in info.get("Contacts", []) or []:
                c = contact.get("Contact", {})
                found.append({"user": info.get("AoR"), "contact": c.get("Address"),
                              "expires": c.get("Expires"), "user_agent": c.get("User-Agent", "")})
    return sorted(found, key=lambda r: (r["user"] or "", r["contact"] or ""))


def status(stats_dump, ban_dump, ul_dump) -> dict:
    stats = htable_items(stats_dump)
    bans = htable_items(ban_dump)
    return {
        "counts": {name: int(stats.get(name, 0)) for name in COUNTERS},
        "banned": [{"address": address, "reason": reason} for address, reason in sorted(bans.items())],
        "registrations": registrations(ul_dump),
    }
