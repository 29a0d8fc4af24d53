import pytest

from firmware.engine import ivr
from firmware.engine.ivr import Goto, MenuState, Play
from firmware.settings import Menu


def make_menu(**kw):
    return Menu(**{"name": "main", "prompt": "main", "options": {"1": "queue:front-desk", "9": "repeat"},
                   "retries": 2, "invalid_prompt": "invalid", "noinput_prompt": "noinput",
                   "on_invalid": "queue:operator-desk", "on_noinput": "hangup", **kw})


def test_start_plays_the_intro_then_the_menu_prompt():
    state, action = ivr.start(make_menu(), intro=("welcome", "disclosure"))
    assert state == MenuState("main", tries=0)
    assert action == Play(("welcome", "disclosure", "main"))


def test_start_without_intro_plays_the_menu_prompt():
    assert ivr.start(make_menu())[1] == Play(("main",))


def test_a_valid_digit_goes_to_its_destination():
    menu = make_menu()
    state, _ = ivr.start(menu)
    assert ivr.on_digit(menu, state, "1") == (state, Goto("queue:front-desk", "choice"))


def test_repeat_plays_the_prompt_again_without_using_a_try():
    menu = make_menu()
    state, _ = ivr.start(menu)
    assert ivr.on_digit(menu, state, "9") == (MenuState("main", 0), Play(("main",)))


def test_invalid_digit_plays_the_invalid_prompt_then_the_menu():
    menu = make_menu()
    state, action = ivr.on_digit(menu, ivr.start(menu)[0], "7")
    assert state.tries == 1 and action == Play(("invalid", "main"))


def test_no_input_plays_the_noinput_prompt_then_the_menu():
    menu = make_menu()
    state, action = ivr.on_timeout(menu, ivr.start(menu)[0])
    assert state.tries == 1 and action == Play(("noinput", "main"))


def test_retry_without_a_retry_prompt_plays_just_the_menu():
    menu = make_menu(invalid_prompt=None, noinput_prompt=None)
    state = ivr.start(menu)[0]
    assert ivr.on_digit(menu, state, "7")[1] == Play(("main",))
    assert ivr.on_timeout(menu, state)[1] == Play(("main",))


def test_invalid_retries_exhausted_go_to_on_invalid():
    menu = make_menu()
    state = ivr.start(menu)[0]
    for _ in range(2):
        state, action = ivr.on_digit(menu, state, "5")
        assert isinstance(action, Play)
    state, action = ivr.on_digit(menu, state, "5")
    assert action == Goto("queue:operator-desk", "invalid")


def test_noinput_retries_exhausted_go_to_on_noinput():
    menu = make_menu()
    state = ivr.start(menu)[0]
    actions = []
    for _ in range(3):
        state, action = ivr.on_timeout(menu, state)
        actions.append(action)
    assert actions == [Play(("noinput", "main")), Play(("noinput", "main")), Goto("hangup", "noinput")]


def test_invalid_and_noinput_share_the_retry_count():
    menu = make_menu()
    state = ivr.start(menu)[0]
    state, _ = ivr.on_digit(menu, state, "5")
    state, _ = ivr.on_timeout(menu, state)
    assert ivr.on_timeout(menu, state)[1] == Goto("hangup", "noinput")


def test_a_valid_digit_after_a_retry_still_counts():
    menu = make_menu()
    state, _ = ivr.on_timeout(menu, ivr.start(menu)[0])
    assert ivr.on_digit(menu, state, "1")[1] == Goto("queue:front-desk", "choice")


@pytest.mark.parametrize("event", ["digit", "timeout"])
def test_zero_retries_leaves_at_the_first_failure(event):
    menu = make_menu(retries=0)
    state = ivr.start(menu)[0]
    _, action = ivr.on_digit(menu, state, "5") if event == "digit" else ivr.on_timeout(menu, state)
    assert action == (Goto("queue:operator-desk", "invalid") if event == "digit" else Goto("hangup", "noinput"))
