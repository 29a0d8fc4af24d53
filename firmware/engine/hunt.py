"""Hunt strategies: in which order a queue's operators are rung. Pure functions over data."""

from __future__ import annotations

from dataclasses import dataclass

from firmware.settings import Strategy


@dataclass(frozen=True)
class Candidate:
    """An operator who could be rung now, with the figures the strategies look at."""

    name: str
    calls_today: int = 0
    idle_since: float = 0.0
    """Clock time the operator last became free (0: never had a call)."""


def ring_order(strategy: Strategy, members: list[str], free: list[Candidate],
               last_rung: str | None = None, tried: frozenset[str] = frozenset()) -> list[str]:
    """Operators to ring for one attempt, in order.

    `members` is the queue's configured order; `free` are the members that can ring now; `tried`
    are the ones that already missed this caller in the current round (skipped while others remain).
    Ring-all returns every free operator (all ring at once); the other strategies return an order
    whose first element is rung.
    """
    position = {name: i for i, name in enumerate(members)}
    pool = [c for c in free if c.name in position and c.name not in tried] or \
           [c for c in free if c.name in position]
    by_member_order = sorted(pool, key=lambda c: position[c.name])
    if strategy == Strategy.ring_all or strategy == Strategy.linear:
        ordered = by_member_order
    elif strategy == Strategy.round_robin:
        start = position[last_rung] + 1 if last_rung in position else 0
        ordered = sorted(by_member_order, key=lambda c: (position[c.name] - start) % len(members))
    elif strategy == Strategy.longest_idle:
        ordered = sorted(by_member_order, key=lambda c: c.idle_since)
    elif strategy == Strategy.fewest_calls:
        ordered = sorted(by_member_order, key=lambda c: c.calls_today)
    else:  # pragma: no cover - the schema admits no other value
        raise ValueError(strategy)
    return [c.name for c in ordered]


def rings_all(strategy: Strategy) -> bool:
    return strategy == Strategy.ring_all
