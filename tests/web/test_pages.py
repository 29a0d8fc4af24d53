"""Every page over a store written by the engine's Writer, with no engine running: what the pages show,
the CSV export, Range requests on recordings, and what needs the engine refusing plainly."""

from __future__ import annotations

import csv
import io

from tests.web.conftest import WAV_DATA, at, wav_bytes


def text(response) -> str:
    return response.get_data(as_text=True)


def test_dashboard_says_plainly_that_the_engine_is_not_running(admin):
    page = text(admin.get("/"))
    assert "The engine is not running" in page and "switchboard engine" in page
    assert 'data-figure="offered">5<' in page and 'data-figure="service_level_pct">20 %<' in page


def test_api_status_merges_engine_and_figures(admin):
    data = admin.get("/api/status").get_json()
    assert data["engine"] is None and "not running" in data["engine_error"]
    assert data["figures"]["offered"] == 5 and data["figures"]["answered"] == 2
    assert data["threshold_s"] == 20
    assert admin.get("/api/status?sl=30").get_json()["figures"]["service_level_pct"] == 40.0


def test_operator_and_hours_buttons_without_an_engine_change_nothing_and_say_so(admin):
    response = admin.post("/operators/st1", {"action": "pause", "reason": "lunch"}, follow_redirects=True)
    assert "The engine is not running: nothing was changed." in text(response)
    assert admin.post("/operators/st1", {"action": "explode"}).status_code == 400
    response = admin.post("/hours", {"mode": "night", "back": "config"})
    assert response.status_code == 302 and response.headers["Location"] == "/config"


def test_calls_list_newest_first_with_filters(admin):
    page = text(admin.get("/calls"))
    assert "8 calls" in page
    assert page.index("/calls/c7") < page.index("/calls/c1") < page.index("/calls/y1")
    page = text(admin.get("/calls?operator=st1"))
    assert "2 calls" in page and "/calls/c1" in page and "/calls/c2" not in page
    page = text(admin.get("/calls?disposition=abandoned"))
    assert "1 call<" in page.replace("1 call ", "1 call<") and "/calls/c3" in page
    yesterday = at(12, day=-1)[:10]
    page = text(admin.get(f"/calls?from={yesterday}&to={yesterday}"))
    assert "1 call" in page and "/calls/y1" in page and "/calls/c1" not in page
    page = text(admin.get("/calls?caller=1234&disposition=bogus&from=not-a-date"))
    assert "/calls/c1" in page and "/calls/c2" not in page


def test_calls_are_paginated(admin, monkeypatch):
    monkeypatch.setattr("web.calls.PAGE_SIZE", 3)
    first = text(admin.get("/calls"))
    assert "page 1 of 3" in first and "/calls?page=2" in first and "/calls/c7" in first
    last = text(admin.get("/calls?page=3"))
    assert "/calls/y1" in last and "/calls/c7" not in last and "/calls?page=2" in last
    assert "page 3 of 3" in text(admin.get("/calls?page=99"))
    assert "operator=st1&amp;page=2" not in text(admin.get("/calls?operator=st1"))  # 2 calls: one page


def test_csv_export_of_the_filtered_list(admin):
    response = admin.get("/calls/export.csv?operator=st1")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert [r["id"] for r in rows] == ["c1", "y1"]
    assert rows[0]["caller_id"] == "5551234" and rows[0]["wait_s"] == "5.0" and rows[0]["disposition"] == "answered"
    assert rows[1]["caller_id"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet


def test_call_page_with_timeline_and_player(admin):
    page = text(admin.get("/calls/c1"))
    for event in ("enter", "ring", "connect", "complete"):
        assert f'class="tl-event">{event}<' in page
    assert '<audio controls preload="metadata" src="/recordings/c1/audio"' in page
    assert "menu:main" in page and "queue:desk" in page
    assert "never entered a queue" in text(admin.get("/calls/c5"))
    assert admin.get("/calls/nope").status_code == 404


def test_recordings_list_and_search(admin):
    page = text(admin.get("/recordings"))
    assert "1 recording" in page and "/recordings/c1/audio" in page and "/recordings/c1/delete" in page
    assert "No recordings match" in text(admin.get("/recordings?caller=999"))


def test_recording_range_request_gets_206_and_exactly_those_bytes(admin):
    whole = admin.get("/recordings/c1/audio")
    assert whole.status_code == 200 and whole.mimetype == "audio/wav" and whole.data == wav_bytes()
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = admin.get("/recordings/c1/audio", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.data == wav_bytes()[100:200] and part.data == WAV_DATA[56:156]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(wav_bytes())}"
    assert part.headers["Content-Length"] == "100"
    assert admin.get("/recordings/c1/audio", headers={"Range": "bytes=999999-"}).status_code == 416


def test_recording_download_is_an_attachment(admin):
    response = admin.get("/recordings/c1/download")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert "call-c1.wav" in response.headers["Content-Disposition"]


def test_recordings_outside_the_folder_are_never_served(admin, data_dir, tmp_path):
    from firmware.store.writer import Writer
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"not yours")
    writer = Writer(data_dir)
    writer.call_updated("c2", recording=str(secret))
    writer.call_updated("c3", recording=str(data_dir / "recordings" / ".." / "switchboard.db"))
    writer.flush()
    writer.close()
    assert admin.get("/recordings/c2/audio").status_code == 404
    assert admin.get("/recordings/c3/audio").status_code == 404
    assert admin.get("/recordings/c3/download").status_code == 404
    assert admin.get("/recordings/c5/audio").status_code == 404  # no recording at all


def test_delete_asks_first_and_needs_post_with_csrf(admin, data_dir):
    wav = data_dir / "recordings" / "c1.wav"
    confirm = admin.get("/recordings/c1/delete")
    assert confirm.status_code == 200 and "Delete this recording?" in text(confirm)
    assert 'method="post"' in text(confirm) and wav.exists()  # GET changed nothing
    assert admin.client.post("/recordings/c1/delete").status_code == 400  # no token
    assert admin.client.post("/recordings/c1/delete", data={"csrf_token": "forged"}).status_code == 400
    assert wav.exists()
    # With the token but no engine: refused plainly (the engine deletes and logs), file kept.
    response = admin.post("/recordings/c1/delete", follow_redirects=True)
    assert "engine is not running, so nothing was deleted" in text(response) and wav.exists()


def test_configuration_page_shows_the_stored_toml(admin):
    page = text(admin.get("/config/toml"))
    assert '<textarea id="toml" name="toml"' in page and "[[queues]]" in page and 'name = &#34;desk&#34;' in page
    assert "Saved versions" in page and "test" in page


def test_a_configuration_without_an_engine_is_not_saved_and_the_text_is_kept(admin):
    base = text(admin.get("/config/toml"))
    base_id = base.split('name="base_id" value="')[1].split('"')[0]
    response = admin.post("/config/toml", {"toml": "[sip]\nport = 5070\n", "base_id": base_id})
    assert response.status_code == 503 and "engine is not running" in text(response)
    assert "nothing was checked or saved" in text(response) and "port = 5070" in text(response)


def test_configuration_changed_elsewhere_is_not_overwritten_silently(admin):
    response = admin.post("/config/toml", {"toml": "[sip]\nport = 5070\n", "base_id": "0"})
    page = text(response)
    assert response.status_code == 409 and "changed elsewhere" in page and "Save anyway" in page
    assert "port = 5070" in page


def test_system_page(admin):
    page = text(admin.get("/system"))
    assert "Switchboard" in page and "not running" in page and "GB free" not in page
    assert "Disk free" in page and "1 file," in page
    assert "INVITE from 10.9.9.9 refused with 403" in page


def test_pages_work_before_the_engine_ever_ran(tmp_path):
    from tests.web.conftest import Admin
    from web import create_app
    app = create_app(tmp_path / "empty")
    admin = Admin(app.test_client(), app).login()
    for path in ("/", "/calls", "/recordings", "/config", "/system", "/calls/export.csv"):
        assert admin.get(path).status_code == 200, path
    assert admin.get("/api/status").get_json()["figures"]["offered"] == 0
    assert "no call store yet" in text(admin.get("/calls"))


def test_unknown_pages_get_a_plain_404(admin):
    response = admin.get("/nowhere")
    assert response.status_code == 404 and "Not Found" in text(response)


def test_the_web_admin_never_loads_pjsua2_or_the_drivers():
    import subprocess
    import sys
    code = ("import sys, web.app, web.serve; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pjsua2', 'drivers') "
            "or m.startswith(('firmware.engine', 'firmware.telephony', 'firmware.app'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
