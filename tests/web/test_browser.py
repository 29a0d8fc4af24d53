"""End to end in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright): a real
engine and `switchboard web` on free ports; first-run setup with the code, log-in, a refused and then an
applied configuration change, a call from the test phone seen live on the dashboard, its record and its
recording played. Screenshots of the main pages go to tests/web/artifacts/."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from firmware import encoder
from tests.e2e.boxes import box
from tests.e2e.conftest import ROOT, Engine, Phone, free_port, switchboard

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "a long office password"
CALLER = "5551234"


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebProcess:
    """`switchboard web` in its own process, as the box runs it."""

    def __init__(self, data_dir: Path, log_path: Path):
        self.port = free_tcp_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "firmware.cli", "--data-dir", str(data_dir), "web",
                                          "--port", str(self.port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"switchboard web exited:\n{self.log()}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"switchboard web did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def box_running(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    config = tmp_path / "box.toml"
    config.write_text(box())
    switchboard(data_dir, "config", "import", str(config))
    engine = Engine(data_dir, free_port()).start()
    web = WebProcess(data_dir, tmp_path / "web.log")
    yield engine, web
    web.stop()
    assert engine.stop() == 0, engine.log()[-3000:]
    assert "Traceback" not in web.log(), web.log()[-3000:]


@pytest.fixture
def browser():
    assert CHROMIUM.exists(), "Debian's chromium is needed (make installs it: apt-get install chromium)"
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def first_run(page, web, engine) -> None:
    """The setup code from the box sets the password; then log in with it."""
    page.goto(web.url + "/")
    assert page.url.endswith("/setup")
    page.fill("input[name=code]", (engine.data_dir / "web" / "setup-code").read_text().strip())
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD)
    page.click("button[type=submit]")
    assert page.url.endswith("/login") and "password is set" in page.inner_text(".flash-ok")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#dashboard")


def change_the_configuration(page, engine) -> None:
    """A refused change keeps the text and lists each problem; then a real change is applied."""
    page.click("nav >> text=Configuration")
    page.click(".tabs >> text=TOML (expert)")
    original = page.input_value("#toml")
    assert "ring_timeout_s = 3.0" in original
    bad = original.replace("ring_timeout_s = 3.0", "ring_timeout_s = -4.0\nring_colour = \"red\"")
    page.fill("#toml", bad)
    page.click("text=Save and apply")
    problems = page.inner_text("#problems")
    assert "queues[0].ring_timeout_s" in problems and "queues[0].ring_colour" in problems and "unknown key" in problems
    assert page.input_value("#toml") == bad
    shot(page, "config-error")
    page.fill("#toml", original.replace("ring_timeout_s = 3.0", "ring_timeout_s = 4.0"))
    page.click("text=Save and apply")
    assert "Saved and applied" in page.inner_text(".flash-ok")
    assert "ring_timeout_s = 4.0" in page.input_value("#toml")
    assert "ring_timeout_s = 4.0" in switchboard(engine.data_dir, "config", "export").stdout


def edit_the_ivr_with_its_form(page, engine) -> None:
    """The menu form: a bad destination is refused beside its digit, a good one is saved, applied and
    shown in the call-flow tree."""
    page.click("nav >> text=Configuration")
    page.click(".tree >> text=menu main")
    page.fill('input[name="option-3"]', "menu:nowhere")
    page.fill('input[name="timeout_s"]', "six")
    page.click("text=Save and apply")
    assert "Input should be a valid number" in page.inner_text("label:has(input[name=timeout_s])")
    assert page.input_value('input[name="option-3"]') == "menu:nowhere"
    shot(page, "config-menu-error")
    page.fill('input[name="timeout_s"]', "6")
    page.click("text=Save and apply")
    assert "there is no menu 'nowhere'" in page.inner_text("label:has(input[name=option-3])")
    page.fill('input[name="option-3"]', "message:bye")
    page.click("text=Save and apply")
    assert "Menu main: Saved and applied" in page.inner_text(".flash-ok")
    tree = page.inner_text(".tree-line")
    assert "3" in tree and "message:bye" in tree
    exported = tomllib.loads(switchboard(engine.data_dir, "config", "export").stdout)
    assert exported["menus"][0]["options"] == {"1": "queue:desk", "2": "message:bye", "3": "message:bye"}
    shot(page, "config-overview")


def tour(page, url: str, suffix: str) -> None:
    """Every main page, as a screenshot (tests/web/artifacts/*.png); the reports draw their charts."""
    for path, name, ready in (("/", "dashboard", "#live-dot.dot-ok"), ("/calls", "calls", ".calls-table"),
                              ("/recordings", "recordings", "#deletion-log"), ("/reports", "reports", "svg.chart"),
                              ("/callers", "callers", "#worklist"),
                              ("/config", "config-overview", ".tree-line"),
                              ("/config/menus/main/edit", "config-menu", "#item-form"),
                              ("/config/queues/desk/edit", "config-queue", "#item-form"),
                              ("/config/prompts", "config-prompts", ".section-table"),
                              ("/config/lines/gw/edit", "config-line", "#item-form"),
                              ("/config/hours", "config-hours", "#hours-form"),
                              ("/config/mailboxes/new", "config-mailbox", "#item-form"),
                              ("/config/operators/st1/edit", "config-operator", "#item-form"),
                              ("/config/edge", "config-edge", "#edge-form"),
                              ("/system/update", "system-update", "main"),
                              ("/config/toml", "config-toml", "#toml"), ("/system", "system", "#backup")):
        page.goto(url + path)
        page.wait_for_selector(ready)
        if name == "reports":
            assert page.locator("svg.chart").count() == 3
            assert page.locator("svg.chart rect").count() > 0 and "st1" in page.inner_text(".operator-report")
        shot(page, f"{name}{suffix}")


def watch_a_call_live(page, engine, tmp_path) -> None:
    """The dashboard is not reloaded: the call and the operator's state arrive through the poller."""
    page.click("nav >> text=Dashboard")
    page.wait_for_selector("#live-dot.dot-ok")
    phone = Phone(tmp_path, "call", f"sip:100@127.0.0.1:{engine.port}", "--digits", "1", "--digit-delay", "3",
                  "--talk", "6", "--caller-id", CALLER)
    try:
        page.wait_for_selector(f"#calls >> text={CALLER}")
        page.wait_for_selector('#operators tr[data-name="st1"] .badge-on_call')
        shot(page, "dashboard")
        heard = phone.result(timeout=40)
    finally:
        phone.kill()
    assert heard["calls"][0]["connected"]
    page.wait_for_selector('[data-figure="answered"] >> text="1"')
    page.wait_for_selector('#operators tr[data-name="st1"] [data-field="calls_today"] >> text="1"')


def play_its_recording(page, engine) -> None:
    """Its record and queue timeline; the recording loads, has a length and seeks (HTTP Range)."""
    page.click("nav >> text=Calls")
    page.wait_for_selector(f".calls-table >> text={CALLER}")
    shot(page, "calls")
    page.click(".calls-table tbody tr:first-child td:first-child a")
    assert [e.strip() for e in page.locator(".tl-event").all_inner_texts()] == ["enter", "ring", "connect", "complete"]
    page.wait_for_function("() => { const a = document.querySelector('audio');"
                           " return a && a.readyState >= 1 && a.duration > 0; }")
    duration = page.evaluate("document.querySelector('audio').duration")
    assert duration > 3
    sought = page.evaluate("""() => new Promise((resolve) => {
        const a = document.querySelector('audio');
        a.addEventListener('seeked', () => resolve(a.currentTime), { once: true });
        a.currentTime = a.duration / 2;
    })""")
    assert abs(sought - duration / 2) < 0.5
    shot(page, "call-detail")
    # The encoder's Opus/WebM in place of the WAV (switchboard-encoder.service): it plays and seeks too.
    call_id = page.get_attribute("audio", "src").split("/")[-2]
    result = encoder.encode(engine.data_dir / "recordings" / f"{call_id}.wav")
    assert result.ok, result.detail
    page.reload()
    page.wait_for_function("() => { const a = document.querySelector('audio');"
                           " return a && a.readyState >= 1 && a.duration > 0; }")
    assert "Opus" in page.inner_text("main")
    assert abs(page.evaluate("document.querySelector('audio').duration") - duration) < 0.5
    sought = page.evaluate("""() => new Promise((resolve) => {
        const a = document.querySelector('audio');
        a.addEventListener('seeked', () => resolve(a.currentTime), { once: true });
        a.currentTime = a.duration / 2;
    })""")
    assert abs(sought - duration / 2) < 0.5
    shot(page, "call-detail-opus")


def delete_it_and_see_the_log(page, engine) -> None:
    """A confirmation page first; then the engine deletes the file and its log says so."""
    page.click("nav >> text=Recordings")
    page.wait_for_selector(".recording audio")
    shot(page, "recordings")
    call_id = page.get_attribute(".recording audio", "src").split("/")[-2]
    files = lambda: sorted(p.name for p in (engine.data_dir / "recordings").glob(f"{call_id}.*"))  # noqa: E731
    page.click(".recording >> text=Delete…")
    page.wait_for_selector("text=Delete this recording?")
    assert files() == [f"{call_id}.webm"]
    page.click("text=Delete the recording")
    assert "deleted" in page.inner_text(".flash-ok") and files() == []
    assert "No recordings match" in page.inner_text("main")
    page.click("nav >> text=System")
    assert "deleted the recording of call" in page.inner_text(".log-table")
    shot(page, "system")


def a_broken_update_is_refused(page, tmp_path) -> None:
    """The System page's update upload: a file that is no release bundle is refused beside the field."""
    junk = tmp_path / "switchboard-9.9.9.bundle.tar"
    junk.write_bytes(b"not a bundle" * 100)
    page.click("nav >> text=System")
    page.set_input_files("#update-form input[name=bundle]", str(junk))
    page.click("#update-form >> text=Install and restart")
    error = page.inner_text("#err-bundle")
    assert "is not a release bundle" in error and "Nothing was changed." in error
    assert not (tmp_path / "data" / "releases").exists()
    shot(page, "system-update-refused")


@pytest.mark.long(55)
@pytest.mark.timeout(180)
def test_first_run_configure_watch_a_call_and_play_it(box_running, browser, tmp_path):
    engine, web = box_running
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console errors, less the refused configuration's 422, which is the page working as meant.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "422" not in msg.text else None)

    first_run(page, web, engine)
    change_the_configuration(page, engine)
    edit_the_ivr_with_its_form(page, engine)
    watch_a_call_live(page, engine, tmp_path)
    play_its_recording(page, engine)
    delete_it_and_see_the_log(page, engine)
    a_broken_update_is_refused(page, tmp_path)
    tour(page, web.url, "")
    on_a_phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=context.storage_state())
    small = on_a_phone.new_page()
    small.set_default_timeout(15_000)
    small.on("pageerror", lambda exc: errors.append(str(exc)))
    tour(small, web.url, "-phone")

    assert errors == [], errors
