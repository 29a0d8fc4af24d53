import pytest

from firmware.engine.hunt import Candidate, ring_order, rings_all
from firmware.settings import Strategy

MEMBERS = ["a", "b", "c", "d"]


def free(*names, **figures):
    """free("a", "b", b=dict(calls_today=3)) -> candidates in the given (not member) order."""
    return [Candidate(n, **figures.get(n, {})) for n in names]


@pytest.mark.parametrize("strategy", [Strategy.ring_all, Strategy.linear])
def test_ring_all_and_linear_follow_member_order(strategy):
    assert ring_order(strategy, MEMBERS, free("d", "b", "a")) == ["a", "b", "d"]


def test_only_ring_all_rings_everyone_at_once():
    assert rings_all(Strategy.ring_all)
    assert not any(rings_all(s) for s in Strategy if s != Strategy.ring_all)


def test_free_operators_who_are_not_members_are_never_rung():
    assert ring_order(Strategy.linear, MEMBERS, free("x", "c")) == ["c"]
    assert ring_order(Strategy.ring_all, MEMBERS, free("x")) == []


def test_round_robin_starts_after_the_last_one_rung():
    assert ring_order(Strategy.round_robin, MEMBERS, free(*MEMBERS), last_rung="b") == ["c", "d", "a", "b"]


def test_round_robin_wraps_around():
    assert ring_order(Strategy.round_robin, MEMBERS, free(*MEMBERS), last_rung="d") == ["a", "b", "c", "d"]


def test_round_robin_without_memory_starts_at_the_first_member():
    assert ring_order(Strategy.round_robin, MEMBERS, free("c", "b"))[0] == "b"
    assert ring_order(Strategy.round_robin, MEMBERS, free("c", "b"), last_rung="gone")[0] == "b"


def test_round_robin_skips_busy_operators_and_wraps():
    # c is busy; after c, d is next, then it wraps to a.
    assert ring_order(Strategy.round_robin, MEMBERS, free("a", "b", "d"), last_rung="c") == ["d", "a", "b"]
    assert ring_order(Strategy.round_robin, MEMBERS, free("a", "b"), last_rung="c") == ["a", "b"]


def test_round_robin_with_memory_takes_turns():
    last, turns = None, []
    for _ in range(6):
        first = ring_order(Strategy.round_robin, ["a", "b", "c"], free("a", "b", "c"), last_rung=last)[0]
        turns.append(first)
        last = first
    assert turns == ["a", "b", "c", "a", "b", "c"]


def test_longest_idle_rings_who_has_waited_longest():
    ops = free("a", "b", "c", a=dict(idle_since=300.0), b=dict(idle_since=100.0), c=dict(idle_since=200.0))
    assert ring_order(Strategy.longest_idle, MEMBERS, ops) == ["b", "c", "a"]


def test_longest_idle_never_had_a_call_comes_first_then_member_order():
    ops = free("c", "a", "b", a=dict(idle_since=50.0))
    assert ring_order(Strategy.longest_idle, MEMBERS, ops) == ["b", "c", "a"]


def test_fewest_calls_ties_broken_by_member_order():
    ops = free("d", "c", "b", "a", a=dict(calls_today=4), b=dict(calls_today=1), c=dict(calls_today=2),
               d=dict(calls_today=1))
    assert ring_order(Strategy.fewest_calls, MEMBERS, ops) == ["b", "d", "c", "a"]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_tried_operators_are_skipped_while_others_remain(strategy):
    order = ring_order(strategy, MEMBERS, free(*MEMBERS), tried=frozenset({"a", "c"}))
    assert sorted(order) == ["b", "d"]


def test_tried_skipping_keeps_the_strategy_order():
    ops = free(*MEMBERS, b=dict(calls_today=5), d=dict(calls_today=1))
    assert ring_order(Strategy.fewest_calls, MEMBERS, ops, tried=frozenset({"a"})) == ["c", "d", "b"]
    assert ring_order(Strategy.round_robin, MEMBERS, free(*MEMBERS), last_rung="a",
                      tried=frozenset({"b"})) == ["c", "d", "a"]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_when_everyone_free_was_tried_they_are_all_rung_again(strategy):
    order = ring_order(strategy, MEMBERS, free("a", "b"), tried=frozenset({"a", "b", "c"}))
    assert sorted(order) == ["a", "b"]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_nobody_free_gives_an_empty_order(strategy):
    assert ring_order(strategy, MEMBERS, []) == []
