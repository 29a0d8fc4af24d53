"""Shared by every test directory: the longest tests are handed out first.

`make test` hands tests to its xdist workers one at a time (`--maxschedchunk 1`); a test of a minute
or more handed out last keeps one worker busy after the others have finished. Tests marked
`long(seconds)` (about how long they take here) go to the front, longest first; the rest keep their
order.
"""


def pytest_collection_modifyitems(items):
    def expected_seconds(item) -> float:
        mark = item.get_closest_marker("long")
        return mark.args[0] if mark else 0

    items.sort(key=expected_seconds, reverse=True)  # a stable sort: equal ones keep their order
