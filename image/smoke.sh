#!/bin/bash
# The image's smoke test: a Debian 12 arm64 root filesystem (debootstrap, run under qemu-user-static
# on x86-64), the product's Python parts installed in a venv there as the image does, and the
# product's pure unit tests run inside it on arm64. What it proves: the product installs on arm64
# from its wheel and PyPI alone, and its logic, the mock GPIO and the modem protocol run there.
#
#   bash image/smoke.sh [BUILD_DIR]     (root; default build/image-smoke)
#
# Exit 77 (skipped) only when this machine cannot run arm64 binaries, with the reason. The root
# filesystem is kept in BUILD_DIR (delete it to start over); each run reinstalls the product.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build=${1:-$repo/build/image-smoke}
PYTHON=${PYTHON:-python3}
# The pure tests: no pjsua2 (no arm64 wheel on PyPI), no external programs, no host services.
TESTS=(test_analysis.py test_config_paths.py test_core.py test_hours.py test_hunt.py test_ivr.py
	test_modem_protocol.py test_modem_sequences.py test_panel.py test_panel_patterns.py
	test_panel_pinmap.py test_panel_presses.py test_settings.py test_update_logic.py test_netconfig.py
	test_system.py)
root="$build/rootfs"
started=$(date +%s)
step() { printf '[%4ss] %s\n' "$(($(date +%s) - started))" "$*"; }

# shellcheck source=/dev/null  # image/arm64-root.sh, checked on its own
. "$here/arm64-root.sh"
arm64_root "$build" python3


step "the product wheel"
rm -rf "$root/tmp/switchboard" && mkdir -p "$root/tmp/switchboard/tests/unit"
# From a copy of the packaged parts only: setuptools would otherwise walk build/ (root filesystems).
src=$(mktemp -d)
cp -a "$repo/pyproject.toml" "$repo/firmware" "$repo/drivers" "$repo/web" "$src/"
find "$src" -name __pycache__ -prune -exec rm -rf {} +
"$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$root/tmp/switchboard" "$src"
rm -rf "$src"
cp "$repo/tests/__init__.py" "$repo/tests/fakes.py" "$root/tmp/switchboard/tests/"
for t in "${TESTS[@]}" __init__.py; do
	cp "$repo/tests/unit/$t" "$root/tmp/switchboard/tests/unit/"
done

step "install into /opt/switchboard/venv of the arm64 root (wheels for aarch64 from PyPI, fetched by the host)"
# pip runs on the host with aarch64 as its target platform (pip under qemu takes minutes); what is
# installed is what the image's venv gets: the aarch64 wheels, imported and run below on arm64.
chroot "$root" /bin/sh -ec '[ -x /opt/switchboard/venv/bin/python ] || python3 -m venv --without-pip /opt/switchboard/venv'
site="$root/opt/switchboard/venv/lib/python3.11/site-packages"
wheel=$(ls "$root"/tmp/switchboard/switchboard-*.whl)
# The product's requirements as they apply on aarch64 (pjsua2-python is x86-64 only).
mapfile -t deps < <("$PYTHON" - "$wheel" <<'PY'
import sys, zipfile
from packaging.requirements import Requirement
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    lines = z.read(meta).decode().splitlines()
env = {"platform_machine": "aarch64", "sys_platform": "linux", "platform_system": "Linux",
       "python_version": "3.11", "extra": ""}
for line in lines:
    if line.startswith("Requires-Dist:"):
        r = Requirement(line.split(":", 1)[1].strip())
        if r.marker is None or r.marker.evaluate(env):
            print(str(r).split(";")[0].strip())
PY
)
want="${deps[*]} pytest"
if [ "$(cat "$build/deps.installed" 2>/dev/null)" != "$want" ]; then
	"$PYTHON" -m pip install --quiet --disable-pip-version-check --upgrade --target "$site" \
		--platform manylinux_2_36_aarch64 --platform manylinux_2_28_aarch64 --platform manylinux_2_17_aarch64 \
		--platform manylinux2014_aarch64 --platform linux_aarch64 --implementation cp --python-version 3.11 \
		--abi cp311 --only-binary=:all: "${deps[@]}" pytest
	echo "$want" >"$build/deps.installed"
fi
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --force-reinstall \
	--target "$site" --platform manylinux2014_aarch64 --only-binary=:all: "$wheel"

# /proc only while the chroot runs (mounted inside the source tree, it would be walked by any tool
# that walks the tree).
cleanup() { umount "$root/proc" 2>/dev/null || true; }
trap cleanup EXIT
mount -t proc proc "$root/proc"
chroot "$root" /opt/switchboard/venv/bin/python -c 'import numpy, pydantic_core, firmware.cli, drivers.modem; print("imports on", __import__("platform").machine())'
chroot "$root" /opt/switchboard/venv/bin/python -m firmware.cli --help >/dev/null

step "the pure unit tests on arm64"
# Tests that time blink periods and debounce windows to 0.1 s run on the host only: under emulation on
# a loaded machine those periods are the emulator's, not the code's.
timed="blink or lamp_test or box_led or bouncing or blip or long_press"
chroot "$root" /bin/sh -ec "cd /tmp/switchboard && GPIOZERO_PIN_FACTORY=mock \
	/opt/switchboard/venv/bin/python -m pytest -q -p no:cacheprovider -k 'not ($timed)' tests/unit"
step "done"
