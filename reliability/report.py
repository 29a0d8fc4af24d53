"""What one reliability check tried, what held, and its figures, printed the same way for every check."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Report:
    name: str
    tried: dict = field(default_factory=dict)    # what was done: counts, seeds, sizes
    held: dict = field(default_factory=dict)     # each property checked -> True/False
    figures: dict = field(default_factory=dict)  # measured numbers (times, rates), never pass/fail
    notes: list[str] = field(default_factory=list)

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.held[what] = bool(ok)
        if not ok and detail:
            self.notes.append(f"{what}: {detail}")
        return bool(ok)

    @property
    def ok(self) -> bool:
        return bool(self.held) and all(self.held.values())

    def failed(self) -> list[str]:
        return [k for k, v in self.held.items() if not v]

    def text(self) -> str:
        lines = [f"== {self.name}: {'HELD' if self.ok else 'FAILED: ' + ', '.join(self.failed())}"]
        lines += [f"  tried   {k}: {v}" for k, v in self.tried.items()]
        lines += [f"  held    {k}: {'yes' if v else 'NO'}" for k, v in self.held.items()]
        lines += [f"  figure  {k}: {_fmt(v)}" for k, v in self.figures.items()]
        lines += [f"  note    {n}" for n in self.notes]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "tried": self.tried, "held": self.held,
                "figures": self.figures, "notes": self.notes}


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)
