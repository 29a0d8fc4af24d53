"""Release bundles and `switchboard update BUNDLE`: install, switch, roll back by itself.

A bundle is a tar file `switchboard-<version>.bundle.tar` (made by `make bundle`):

    manifest.json   {"format": 1, "product": "switchboard", "version": "0.2.0", "created_at": "...",
                     "python": "3.11", "wheels": [{"name": "switchboard-0.2.0-py3-none-any.whl",
                     "sha256": "<hex>", "size": 12345}, ...]}
    wheels/*.whl    the product wheel, and any other wheel the release brings (the aarch64 pjsua2
                    build, a changed dependency); exactly the files the manifest lists

and next to it, optionally, `<bundle>.sha256` (`sha256sum` format) for the whole file. Nothing is
touched until every member matches the manifest.

Releases live on the data partition (the root file system is read-only): `<data>/releases/<version>-
<stamp>/venv`, with the symlinks `current` (what the units run, through /opt/switchboard/venv) and
`previous`. A new release's venv starts as a hard-linked copy of the current one's site-packages (its
dependencies, no download and no extra space: pip unlinks a file before writing it, so the old
release is never changed), then the bundle's wheels are installed over it and `pip check` must pass.
Then `current` is switched and the engine restarted; if it does not report ready (systemd READY=1)
within the timeout, `current` goes back and the engine is restarted on the previous release.

The web admin's upload calls `install_bundle(path, data_dir)` with the uploaded file.
"""

from __future__ import annotations

import argparse
import enum
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

log = logging.getLogger(__name__)
FORMAT = 1
PRODUCT = "switchboard"
READY_TIMEOUT_S = 90.0
ENGINE_UNIT = "switchboard-engine.service"
SOURCE_PARTS = ("pyproject.toml", "firmware", "drivers", "web")  # what the product wheel is made of


class BundleError(Exception):
    """The bundle is refused; nothing on the box was changed."""


# -- the manifest (pure) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Wheel:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    version: str
    python: str
    wheels: tuple[Wheel, ...]
    created_at: str = ""

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "product": PRODUCT, "version": self.version,
                           "created_at": self.created_at, "python": self.python,
                           "wheels": [w.__dict__ for w in self.wheels]}, indent=2) + "\n"


def parse_manifest(text: str) -> Manifest:
    """The manifest, or BundleError saying what is wrong with it."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BundleError(f"manifest.json is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BundleError("manifest.json is not an object")
    if data.get("product") != PRODUCT:
        raise BundleError(f"not a {PRODUCT} bundle (product {data.get('product')!r})")
    if data.get("format") != FORMAT:
        raise BundleError(f"bundle format {data.get('format')!r} is not one this box reads ({FORMAT})")
    version = data.get("version")
    if not isinstance(version, str) or not version or "/" in version or version.startswith("."):
        raise BundleError(f"bad version {version!r}")
    wheels = []
    for w in data.get("wheels") or []:
        name, digest, size = w.get("name"), w.get("sha256"), w.get("size")
        if not (isinstance(name, str) and name.endswith(".whl") and "/" not in name and not name.startswith(".")):
            raise BundleError(f"bad wheel name {name!r}")
        if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
            raise BundleError(f"bad SHA-256 for {name}")
        if not isinstance(size, int) or size < 0:
            raise BundleError(f"bad size for {name}")
        wheels.append(Wheel(name, digest, size))
    if not any(w.name.startswith(f"{PRODUCT}-{version}-") for w in wheels):
        raise BundleError(f"the bundle has no {PRODUCT} {version} wheel")
    if len({w.name for w in wheels}) != len(wheels):
        raise BundleError("a wheel is listed twice")
    return Manifest(version, str(data.get("python", "")), tuple(wheels), str(data.get("created_at", "")))


def check_python(manifest: Manifest, running: str) -> None:
    if manifest.python and manifest.python != running:
        raise BundleError(f"the bundle is for Python {manifest.python}, this box runs {running}")


def expected_members(manifest: Manifest) -> dict[str, Wheel]:
    return {f"wheels/{w.name}": w for w in manifest.wheels}


# -- what happens during an update (pure) ----------------------------------------------------------

class Step(enum.Enum):
    VERIFY = "verify"
    INSTALL = "install"
    SWITCH = "switch"
    WAIT_READY = "wait_ready"
    DONE = "done"
    ROLL_BACK = "roll_back"
    ROLLED_BACK = "rolled_back"
    REFUSED = "refused"
    FAILED = "failed"  # rolled back, and the previous release did not get ready either


TRANSITIONS = {
    Step.VERIFY: {Step.INSTALL, Step.REFUSED},
    Step.INSTALL: {Step.SWITCH, Step.REFUSED},
    Step.SWITCH: {Step.WAIT_READY},
    Step.WAIT_READY: {Step.DONE, Step.ROLL_BACK},
    Step.ROLL_BACK: {Step.ROLLED_BACK, Step.FAILED},
}


@dataclass
class Outcome:
    step: Step = Step.VERIFY
    version: str = ""
    message: str = ""
    history: list[str] = field(default_factory=list)  # the steps passed through, in order

    def go(self, step: Step, message: str = "") -> None:
        if step not in TRANSITIONS.get(self.step, set()):
            raise RuntimeError(f"update: {self.step.value} -> {step.value} is not a transition")
        self.history.append(self.step.value)
        self.step, self.message = step, message or self.message

    @property
    def ok(self) -> bool:
        return self.step is Step.DONE


def releases_to_prune(names: list[str], keep: set[str]) -> list[str]:
    """Release folders to delete: all but those `current` and `previous` point at."""
    return sorted(n for n in names if n not in keep and not n.startswith("."))


# -- the box's releases (I/O) ----------------------------------------------------------------------

class Releases:
    """<data>/releases: release folders, and the `current` and `previous` symlinks."""

    def __init__(self, data_dir: Path, fallback_venv: Path | None = None):
        self.root = Path(data_dir) / "releases"
        # Before any update, the running venv is the current release (the image's factory venv).
        self.fallback_venv = Path(fallback_venv or sys.prefix)

    def link(self, name: str) -> Path | None:
        path = self.root / name
        return Path(os.readlink(path)) if path.is_symlink() else None

    def current_venv(self) -> Path:
        target = self.link("current")
        return (self.root / target / "venv") if target else self.fallback_venv

    def set_link(self, name: str, target: Path | str) -> None:
        tmp = self.root / f".{name}.tmp"
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, self.root / name)  # atomic: the link is always whole

    @property
    def pending(self) -> Path:
        return self.root / ".pending"

    def recover_interrupted(self) -> str | None:
        """At boot: an update that was waiting for the engine when the box went down goes back."""
        if not self.pending.exists():
            return None
        back = self.pending.read_text().strip()
        trial = self.link("current")
        if back:
            self.set_link("current", back)
        self.pending.unlink()
        return f"an update to {trial} was cut short before the engine got ready; back to {back}"

    def ensure_factory(self, venv: Path | None = None) -> Path:
        """`factory`: a release whose venv is the image's own (read-only) one; `current` points at it
        when nothing else does (first boot, or a box that never updated). Returns its link target."""
        factory = self.root / "factory"
        factory.mkdir(parents=True, exist_ok=True)
        if not (factory / "venv").is_symlink():
            os.symlink(Path(venv or self.fallback_venv).resolve(), factory / "venv")
        if self.link("current") is None or not (self.root / "current").exists():
            self.set_link("current", "factory")
        return Path("factory")

    def prune(self) -> list[str]:
        keep = {"factory"} | {str(t).rstrip("/").split("/")[-1]
                              for t in (self.link("current"), self.link("previous")) if t}
        names = [p.name for p in self.root.iterdir() if p.is_dir() and not p.is_symlink()]
        gone = releases_to_prune(names, keep)
        for name in gone:
            shutil.rmtree(self.root / name, ignore_errors=True)
        return gone

    def lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        f = open(self.root / ".lock", "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise BundleError("another update is in progress") from None
        return f


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(bundle: Path) -> Manifest:
    """Check the bundle against its sidecar checksum (when present) and its manifest."""
    bundle = Path(bundle)
    if not bundle.is_file():
        raise BundleError(f"no such file: {bundle}")
    sidecar = bundle.with_name(bundle.name + ".sha256")
    if sidecar.exists():
        want = sidecar.read_text().split()[0] if sidecar.read_text().split() else ""
        if _sha256_file(bundle) != want:
            raise BundleError(f"{bundle.name}: SHA-256 does not match {sidecar.name}")
    try:
        with tarfile.open(bundle, "r:*") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            if "manifest.json" not in names:
                raise BundleError("no manifest.json in the bundle")
            manifest = parse_manifest(tar.extractfile("manifest.json").read().decode("utf-8", "replace"))
            expected = expected_members(manifest)
            extra = [n for n in names if n not in expected and n not in ("manifest.json", "wheels")]
            if extra:
                raise BundleError(f"files the manifest does not list: {', '.join(extra[:5])}")
            for name, wheel in expected.items():
                member = next((m for m in members if m.name == name), None)
                if member is None or not member.isfile():
                    raise BundleError(f"{name} is missing from the bundle")
                h = hashlib.sha256()
                f = tar.extractfile(member)
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
                if h.hexdigest() != wheel.sha256 or member.size != wheel.size:
                    raise BundleError(f"{name}: SHA-256 does not match the manifest (corrupt bundle)")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"{bundle.name} is not a readable bundle: {exc}") from None
    check_python(manifest, f"{sys.version_info.major}.{sys.version_info.minor}")
    return manifest


def install(bundle: Path, manifest: Manifest, releases: Releases, run=subprocess.run) -> Path:
    """A new release folder with a complete venv; removed again if anything fails."""
    stamp = time.strftime("%Y%m%d%H%M%S")
    # Installed in place (a venv cannot move: its scripts name their interpreter by path); a folder
    # still marked .installing is no release, and `prune` deletes it.
    folder = releases.root / f"{manifest.version}-{stamp}"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        wheels = folder / "wheels"
        wheels.mkdir(parents=True)
        (folder / ".installing").touch()
        with tarfile.open(bundle, "r:*") as tar:
            for name in expected_members(manifest):
                (wheels / Path(name).name).write_bytes(tar.extractfile(name).read())
        old = releases.current_venv()
        venv = folder / "venv"
        _venv_like(old, venv, run)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
        _run(run, pip + ["install", "--no-index", "--no-deps", "--force-reinstall",
                         *sorted(str(p) for p in wheels.glob("*.whl"))], "installing the wheels")
        _run(run, pip + ["check"], "checking the dependencies")
        _run(run, [str(venv / "bin" / PRODUCT), "--help"], "starting the new command")
        (folder / ".installing").unlink()
        return folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _venv_like(old: Path, new: Path, run) -> None:
    """A new venv with the old one's packages, hard-linked (instant, no space)."""
    base = _base_python(old)
    _run(run, [base, "-m", "venv", "--without-pip", str(new)], "making the venv")
    old_sp, new_sp = _site_packages(old), _site_packages(new)
    shutil.rmtree(new_sp)
    shutil.copytree(old_sp, new_sp, symlinks=True, copy_function=_link_or_copy)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system (a dev machine's venv): copy
        shutil.copy2(src, dst)


def _base_python(venv: Path) -> str:
    cfg = (venv / "pyvenv.cfg").read_text().splitlines()
    home = next((line.split("=", 1)[1].strip() for line in cfg if line.split("=")[0].strip() == "home"), None)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if home and (Path(home) / version).exists():
        return str(Path(home) / version)
    return sys._base_executable


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found:
        raise BundleError(f"no site-packages in {venv}")
    return found[0]


def _run(run, argv: list[str], what: str) -> None:
    result = run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise BundleError(f"{what} failed: {(result.stdout + result.stderr).strip()[-800:]}")


# -- the engine: restart and readiness -------------------------------------------------------------

class Engine(Protocol):
    def restart(self) -> None: ...
    def wait_ready(self, timeout_s: float) -> bool: ...


class SystemdEngine:
    """The engine unit under systemd: Type=notify, so it is `active` only after READY=1."""

    def __init__(self, unit: str = ENGINE_UNIT, run=subprocess.run, sleep=time.sleep, clock=time.monotonic):
        self.unit, self.run, self.sleep, self.clock = unit, run, sleep, clock

    def _show(self) -> dict:
        out = self.run(["systemctl", "show", "--property=ActiveState,SubState,InvocationID", self.unit],
                       capture_output=True, text=True).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def restart(self) -> None:
        # The old instance stays `active` until the restart job runs: only a new invocation counts.
        self.old_invocation = self._show().get("InvocationID", "")
        _run(self.run, ["systemctl", "restart", "--no-block", self.unit], f"restarting {self.unit}")

    def wait_ready(self, timeout_s: float) -> bool:
        deadline = self.clock() + timeout_s
        while self.clock() < deadline:
            state = self._show()
            if (state.get("ActiveState") == "active" and state.get("SubState") == "running"
                    and state.get("InvocationID", "") != getattr(self, "old_invocation", None)):
                return True
            self.sleep(0.5)
        return False


# -- the whole update ------------------------------------------------------------------------------

def install_bundle(bundle: Path, data_dir: Path, engine: Engine | None = None,
                   ready_timeout_s: float = READY_TIMEOUT_S, say: Callable[[str], None] = lambda m: None,
                   releases: Releases | None = None) -> Outcome:
    """Verify, install, switch, and keep the new release only if the engine gets ready on it.
    Never raises for a bad bundle: the outcome says what happened."""
    engine = engine or SystemdEngine()
    releases = releases or Releases(data_dir)
    outcome = Outcome()
    lock = None
    try:
        lock = releases.lock()
        say(f"checking {Path(bundle).name}")
        manifest = verify(Path(bundle))
        outcome.version = manifest.version
        outcome.go(Step.INSTALL, f"installing {manifest.version}")
        say(outcome.message)
        folder = install(Path(bundle), manifest, releases)
    except (BundleError, OSError) as exc:  # OSError: a full disk, a bundle that vanished
        outcome.go(Step.REFUSED, f"refused: {exc}")
        if lock:
            lock.close()
        return outcome
    try:
        old_target = releases.link("current")
        outcome.go(Step.SWITCH, f"switching to {folder.name}")
        say(outcome.message)
        if old_target is None:  # the first update: the running venv becomes a release to go back to
            old_target = releases.ensure_factory()
        releases.set_link("previous", old_target)
        # Until the engine is ready on it, the new release is on trial: a reboot in between goes back
        # (switchboard init at boot, `recover_interrupted`).
        releases.pending.write_text(str(old_target))
        releases.set_link("current", folder.name)
        outcome.go(Step.WAIT_READY, f"waiting up to {ready_timeout_s:.0f} s for the engine to be ready")
        say(outcome.message)
        if _restarted_and_ready(engine, ready_timeout_s):
            outcome.go(Step.DONE, f"updated to {manifest.version}; the engine is ready")
            releases.pending.unlink(missing_ok=True)
            releases.prune()
            return outcome
        outcome.go(Step.ROLL_BACK, "the new engine did not get ready; going back")
        say(outcome.message)
        releases.set_link("current", old_target)
        if _restarted_and_ready(engine, ready_timeout_s):
            outcome.go(Step.ROLLED_BACK, f"rolled back: {manifest.version} did not get ready within "
                                         f"{ready_timeout_s:.0f} s; the previous release runs again")
        else:
            outcome.go(Step.FAILED, "rolled back, but the previous release did not get ready either")
        releases.pending.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        return outcome
    finally:
        lock.close()


def _restarted_and_ready(engine: Engine, timeout_s: float) -> bool:
    """A restart that cannot even be asked for counts as not ready (and so is rolled back)."""
    try:
        engine.restart()
    except (BundleError, OSError) as exc:
        log.warning("restarting the engine failed: %s", exc)
        return False
    return engine.wait_ready(timeout_s)


# -- making a bundle -------------------------------------------------------------------------------

def build_bundle(out_dir: Path, source: Path, extra_wheels: list[Path] = (), python: str = sys.executable) -> Path:
    """`make bundle`: the product wheel from `source` (+ extra wheels) as a bundle with its .sha256."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = Path(tmp) / "wheels"
        wheel_dir.mkdir()
        # From a copy of the packaged parts only: setuptools would otherwise walk build/ and data/.
        clean = Path(tmp) / "source"
        clean.mkdir()
        for part in SOURCE_PARTS:
            if (Path(source) / part).is_dir():
                shutil.copytree(Path(source) / part, clean / part, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(Path(source) / part, clean / part)
        subprocess.run([python, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                        "--wheel-dir", str(wheel_dir), str(clean)], check=True)
        for extra in extra_wheels:
            shutil.copy(extra, wheel_dir)
        product = next(wheel_dir.glob(f"{PRODUCT}-*.whl"))
        version = product.name.split("-")[1]
        wheels = tuple(Wheel(p.name, _sha256_file(p), p.stat().st_size) for p in sorted(wheel_dir.glob("*.whl")))
        manifest = Manifest(version, f"{sys.version_info.major}.{sys.version_info.minor}", wheels,
                            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        (Path(tmp) / "manifest.json").write_text(manifest.to_json())
        out_dir.mkdir(parents=True, exist_ok=True)
        bundle = out_dir / f"{PRODUCT}-{version}.bundle.tar"
        with tarfile.open(bundle, "w") as tar:
            tar.add(Path(tmp) / "manifest.json", "manifest.json")
            for w in wheels:
                tar.add(wheel_dir / w.name, f"wheels/{w.name}")
    Path(f"{bundle}.sha256").write_text(f"{_sha256_file(bundle)}  {bundle.name}\n")
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m firmware.update")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="make a release bundle from this source tree")
    b.add_argument("--out", default="build/bundle")
    b.add_argument("--source", default=str(Path(__file__).resolve().parents[1]))
    b.add_argument("--wheel", action="append", default=[], help="another wheel to ship (e.g. the aarch64 pjsua2)")
    args = parser.parse_args(argv)
    bundle = build_bundle(Path(args.out), Path(args.source), [Path(w) for w in args.wheel])
    print(f"{bundle} ({bundle.stat().st_size / 1e6:.1f} MB), SHA-256 in {bundle.name}.sha256")
    return 0


if __name__ == "__main__":
    sys.exit(main())
