"""PressDetector: raw levels over time -> short and long presses (debounce 30 ms, long press 2 s)."""

import pytest

from drivers.panel import PressDetector, PressKind
from drivers.panel.presses import PressRouter

SHORT, LONG = PressKind.short, PressKind.long


def feed(detector, samples):
    """samples: (time, pressed) -> [(time, report)] for the samples that reported."""
    return [(t, kind) for t, level in samples if (kind := detector.update(level, t)) is not None]


def test_a_clean_press_reports_short_once_the_release_has_settled():
    d = PressDetector(0.03, 2.0)
    assert feed(d, [(0.0, True), (0.2, False)]) == []
    assert d.next_deadline() == pytest.approx(0.23)
    assert d.poll(0.229) is None
    assert d.poll(0.23) is SHORT
    assert d.poll(5.0) is None and d.next_deadline() is None


def test_contact_bounce_at_both_ends_is_one_press():
    d = PressDetector(0.03, 2.0)
    down = [(0.000, True), (0.002, False), (0.004, True), (0.009, False), (0.011, True)]
    up = [(0.300, False), (0.301, True), (0.305, False), (0.306, True), (0.310, False)]
    assert feed(d, down + [(0.1, True)] + up) == []
    assert feed(d, [(t / 100, False) for t in range(32, 60)]) == [(0.34, SHORT)]


def test_a_glitch_in_the_middle_of_a_hold_is_ignored():
    d = PressDetector(0.03, 2.0)
    samples = [(0.0, True), (0.5, False), (0.51, True), (1.0, False), (1.1, False)]
    assert feed(d, samples) == [(1.1, SHORT)]


def test_a_blip_shorter_than_the_debounce_is_no_press():
    d = PressDetector(0.03, 2.0)
    assert feed(d, [(0.0, True), (0.02, False), (0.1, False), (1.0, False)]) == []
    assert not d.pressed


def test_a_long_press_is_reported_once_while_held_and_its_release_reports_nothing():
    d = PressDetector(0.03, 2.0)
    assert d.update(True, 0.0) is None
    assert d.poll(0.03) is None and d.pressed
    assert d.next_deadline() == pytest.approx(2.0)
    assert d.poll(1.99) is None
    assert d.poll(2.0) is LONG
    assert d.next_deadline() is None
    assert feed(d, [(3.0, True), (4.0, False), (4.1, False), (9.0, False)]) == []


def test_a_long_press_seen_only_at_its_release_is_still_long_and_not_short():
    d = PressDetector(0.03, 2.0)
    assert feed(d, [(0.0, True), (2.5, False), (2.6, False)]) == [(2.5, LONG)]


def test_long_press_time_counts_from_the_last_bounce_of_the_press():
    d = PressDetector(0.03, 2.0)
    feed(d, [(0.0, True), (0.01, False), (0.02, True)])
    assert d.poll(2.01) is None
    assert d.poll(2.02) is LONG


def test_with_no_debounce_a_sample_reports_at_most_once():
    d = PressDetector(0.0, 1.0)
    assert d.update(True, 0.0) is None and d.pressed
    assert d.update(False, 0.5) is SHORT
    assert d.update(True, 1.0) is None
    assert d.update(False, 3.0) is LONG  # held 2 s, seen only now: one report, not long + short
    assert d.update(True, 3.0) is None


def test_a_button_held_when_watching_starts_is_not_a_press():
    d = PressDetector(0.03, 2.0)
    d.start(True, 0.0)
    assert d.pressed and d.next_deadline() is None
    assert feed(d, [(5.0, True), (6.0, False), (6.1, False)]) == []
    assert feed(d, [(7.0, True), (7.2, False), (7.3, False)]) == [(7.3, SHORT)]


@pytest.mark.parametrize("debounce, long_press", [(-0.1, 2.0), (0.5, 0.5)])
def test_impossible_timings(debounce, long_press):
    with pytest.raises(ValueError):
        PressDetector(debounce, long_press)


def test_the_router_reports_per_button_and_survives_a_failing_receiver(caplog):
    reports = []

    def report(key, long_press):
        reports.append((key, long_press))
        if key == "bad":
            raise RuntimeError("receiver bug")

    router = PressRouter(["a", "b", "bad"], report, 0.03, 1.0)
    router.start({"a": False, "b": False, "bad": False}, 0.0)
    router.feed("a", True, 0.0)
    router.feed("bad", True, 0.0)
    router.feed("b", True, 0.1)
    router.feed("a", False, 0.2)
    assert router.next_deadline() == pytest.approx(0.03)  # the earliest: "bad" settling as pressed
    router.poll(0.3)
    assert reports == [("a", False)]
    assert router.next_deadline() == pytest.approx(1.0)
    router.poll(1.2)
    assert reports == [("a", False), ("b", True), ("bad", True)]
    assert "receiver bug" in caplog.text
    assert router.next_deadline() is None
