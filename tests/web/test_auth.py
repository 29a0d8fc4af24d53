"""Safety of the web admin: first-run setup code, password storage, log-in and lock-out, CSRF, sessions,
security headers, and a walk of the URL map proving every page needs a session."""

from __future__ import annotations

import json
import re
import stat

import pytest

from tests.web.conftest import PASSWORD, Admin, csrf_of
from web import create_app
from web.security import PUBLIC_ENDPOINTS


def mode_of(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def setup_form(client, code: str, password: str = PASSWORD, again: str | None = None):
    token = csrf_of(client.get("/setup").get_data(as_text=True))
    return client.post("/setup", data={"code": code, "password": password, "password_again": again or password,
                                       "csrf_token": token})


def test_first_visit_goes_to_setup_and_there_is_no_default_password(client, app, data_dir):
    files = app.extensions["switchboard"].files
    assert not files.has_password() and not files.admin_path.exists()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/setup")
    assert client.get("/login").headers["Location"].endswith("/setup")
    code_file = data_dir / "web" / "setup-code"
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code_file.read_text().strip())
    assert mode_of(code_file) == 0o600 and mode_of(data_dir / "web") == 0o700
    page = client.get("/setup").get_data(as_text=True)
    assert "setup code" in page and code_file.read_text().strip() not in page  # never shown on the web


def test_setup_with_a_wrong_code_is_refused(client, app, data_dir):
    response = setup_form(client, "AAAA-AAAA")
    assert response.status_code == 403 and "not right" in response.get_data(as_text=True)
    assert not app.extensions["switchboard"].files.has_password()
    assert (data_dir / "web" / "setup-code").exists()


def test_setup_with_the_right_code_sets_a_scrypt_hash_and_deletes_the_code(client, app, data_dir):
    code = (data_dir / "web" / "setup-code").read_text().strip()
    assert setup_form(client, code, again="something else").status_code == 400
    assert setup_form(client, code, password="short", again="short").status_code == 400
    response = setup_form(client, code.lower().replace("-", " "))  # forgiving about case and the dash
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    admin_file = data_dir / "web" / "admin.json"
    record = json.loads(admin_file.read_text())
    assert record["password_hash"].startswith("scrypt:") and PASSWORD not in admin_file.read_text()
    assert mode_of(admin_file) == 0o600
    assert not (data_dir / "web" / "setup-code").exists()
    assert not list((data_dir / "web").glob("*.tmp"))
    # Once set, setup is closed and the login page is the way in.
    assert client.get("/setup").headers["Location"].endswith("/login")
    assert client.get("/").headers["Location"].startswith("/login")


def test_login_then_pages_then_logout(client, app):
    admin = Admin(client, app).login()
    assert admin.get("/").status_code == 200
    assert admin.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_login_with_a_wrong_password(client, app):
    app.extensions["switchboard"].files.set_password(PASSWORD)
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"password": "nope nope nope", "csrf_token": token})
    assert response.status_code == 403 and "Wrong password" in response.get_data(as_text=True)
    assert client.get("/calls").status_code == 302


def test_login_returns_to_the_page_asked_for_but_never_off_site(client, app):
    app.extensions["switchboard"].files.set_password(PASSWORD)
    assert client.get("/calls?caller=55").headers["Location"] == "/login?next=/calls?caller%3D55"
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"password": PASSWORD, "csrf_token": token, "next": "/calls?caller=55"})
    assert response.headers["Location"] == "/calls?caller=55"
    client.post("/logout", data={"csrf_token": Admin(client, app).token()})
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"password": PASSWORD, "csrf_token": token, "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_five_failures_lock_the_address_out_for_ten_minutes(client, app, clock):
    app.extensions["switchboard"].files.set_password(PASSWORD)
    token = csrf_of(client.get("/login").get_data(as_text=True))

    def attempt(password):
        return client.post("/login", data={"password": password, "csrf_token": token})

    for _ in range(4):
        assert attempt("wrong password!").status_code == 403
    locked = attempt("wrong password!")
    assert locked.status_code == 429 and "Too many failed attempts" in locked.get_data(as_text=True)
    assert attempt(PASSWORD).status_code == 429  # even the right password, while locked
    other = app.test_client()  # another address is not locked
    other_token = csrf_of(other.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.7"}).get_data(as_text=True))
    assert other.post("/login", data={"password": PASSWORD, "csrf_token": other_token},
                      environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 302
    clock.advance(599)
    assert attempt(PASSWORD).status_code == 429
    clock.advance(2)
    assert attempt(PASSWORD).status_code == 302


def test_failures_spread_over_more_than_ten_minutes_do_not_lock(client, app, clock):
    app.extensions["switchboard"].files.set_password(PASSWORD)
    token = csrf_of(client.get("/login").get_data(as_text=True))
    for _ in range(8):
        assert client.post("/login", data={"password": "wrong password!", "csrf_token": token}).status_code == 403
        clock.advance(200)


def test_wrong_setup_codes_count_towards_the_lock_out(client, data_dir):
    for _ in range(5):
        setup_form(client, "AAAA-AAAA")
    code = (data_dir / "web" / "setup-code").read_text().strip()
    assert setup_form(client, code).status_code == 429


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_post_without_the_right_csrf_token_is_refused(admin, app, token):
    data = {"mode": "night"} if token is None else {"mode": "night", "csrf_token": token}
    response = admin.client.post("/hours", data=data)
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    assert admin.client.post("/logout", data=data).status_code == 400


def test_the_login_form_needs_its_csrf_token_too(client, app):
    app.extensions["switchboard"].files.set_password(PASSWORD)
    client.get("/login")
    assert client.post("/login", data={"password": PASSWORD}).status_code == 400


def test_a_csrf_header_is_accepted_for_scripts(admin):
    response = admin.client.post("/hours", data={"mode": "bogus"}, headers={"X-CSRF-Token": admin.token()})
    assert response.status_code == 400 and "unknown hours mode" in response.get_data(as_text=True)


def test_session_cookie_flags_and_security_headers(client, app):
    app.extensions["switchboard"].files.set_password(PASSWORD)
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_new_password_ends_old_sessions(admin, app):
    assert admin.get("/").status_code == 200
    app.extensions["switchboard"].files.set_password("another long password")
    assert admin.get("/").status_code == 302


def test_the_secret_key_is_made_once_and_kept(data_dir, app, clock):
    key_file = data_dir / "web" / "secret_key"
    assert mode_of(key_file) == 0o600 and len(key_file.read_text().strip()) == 64
    assert create_app(data_dir, clock=clock).config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_a_session_survives_a_restart_of_the_web_admin(admin, data_dir, clock):
    cookie = admin.client.get_cookie("switchboard_session").value
    again = create_app(data_dir, clock=clock).test_client()
    again.set_cookie("switchboard_session", cookie)
    assert again.get("/").status_code == 200


def _sample_url(rule) -> str:
    return rule.build({name: "x1" for name in rule.arguments}, append_unknown=False)[1]


def test_every_route_but_login_setup_and_static_needs_a_session(app):
    """Walk the URL map: each rule, each method, without a session, must not be served."""
    app.extensions["switchboard"].files.set_password(PASSWORD)
    client = app.test_client()
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            checked.append((method, rule.rule))
            if url.startswith("/api/"):
                assert response.status_code == 401, (method, url)
            else:
                assert response.status_code == 302, (method, url, response.status_code)
                assert response.headers["Location"].startswith("/login"), (method, url)
    # the walk really covered the app: every blueprint's pages, forms and the JSON endpoint
    assert ("POST", "/recordings/<call_id>/delete") in checked and ("POST", "/config/toml") in checked
    assert ("GET", "/api/status") in checked and len(checked) >= 15
    assert PUBLIC_ENDPOINTS == {"auth.login", "auth.setup", "static"}


def test_static_files_and_login_are_served_without_a_session(client):
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/setup").status_code == 200
