"""Helpers for the configuration-form tests that run against a real engine: start one on a given
configuration, log in to the web admin on its data directory, and post a form with its base_id."""

from __future__ import annotations

import contextlib
import tomllib

from firmware.store import db as dbmod, queries
from tests.e2e.conftest import Engine, free_port, switchboard
from tests.web.conftest import Admin
from web import create_app


@contextlib.contextmanager
def running_engine(tmp_path, config_text: str):
    """An engine on `config_text`, stopped afterwards; it must stop cleanly, with no traceback."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    config = tmp_path / "box.toml"
    config.write_text(config_text)
    switchboard(data_dir, "config", "import", str(config))
    engine = Engine(data_dir, free_port()).start()
    yield engine
    code = engine.stop()
    assert "Traceback" not in engine.log() and code == 0, engine.log()[-3000:]


def logged_in_admin(engine) -> Admin:
    app = create_app(engine.data_dir)
    app.config["TESTING"] = True
    return Admin(app.test_client(), app).login()


def text(response) -> str:
    return response.get_data(as_text=True)


def stored(engine) -> dict:
    return tomllib.loads(queries.current_config(dbmod.open_read(engine.data_dir)))


def saved_count(engine) -> int:
    return len(list(dbmod.open_read(engine.data_dir).execute("select id from config")))


def base_id(page: str) -> str:
    return page.split('name="base_id" value="')[1].split('"')[0]


def post_form(admin, path: str, fields: dict, **kwargs):
    return admin.post(path, {**fields, "base_id": base_id(text(admin.get(path)))}, **kwargs)
