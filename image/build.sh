#!/bin/bash
# `make image`: the Raspberry Pi OS Lite (64-bit, bookworm) image of the box, built with pi-gen.
#
#   bash image/build.sh [--prepare-only]
#
# Needs a Debian/Ubuntu x86-64 or arm64 machine with internet (pi-gen fetches Raspberry Pi OS from
# archive.raspberrypi.com), root (loop devices, chroot) and qemu binfmt on x86-64. Steps, each
# printed with its time: the product wheel, pi-gen at a pinned release, our stage (rendered files,
# units, wheels), then pi-gen's stages 0-2 (Lite) and ours, with each sub-stage shown as it starts.
# --prepare-only stops before pi-gen (what the tests check: the stage as pi-gen would get it).
#
# Environment:
#   PJSUA2_WHEEL   the aarch64 pjsua2 wheel (`make pjsua2` on an arm64 machine); without it the image
#                  has no pjsua2 and the engine cannot start (a warning, not an error: for trying the rest)
#   IMAGE_BUILD_DIR  where everything goes (default build/image); the image ends in $IMAGE_BUILD_DIR/deploy
#   PIGEN_REF      the pi-gen release (a tag of its arm64 branch)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build=${IMAGE_BUILD_DIR:-$repo/build/image}
PIGEN_REPO=${PIGEN_REPO:-https://github.com/RPi-Distro/pi-gen.git}
PIGEN_REF=${PIGEN_REF:-2024-11-19-raspios-bookworm-arm64}
PYTHON=${PYTHON:-python3}
prepare_only=0
[ "${1:-}" = "--prepare-only" ] && prepare_only=1

started=$(date +%s)
step() { printf '[%4ss] %s\n' "$(($(date +%s) - started))" "$*"; }

step "1/4 the product wheel"
rm -rf "$build/stage-switchboard" "$build/wheels"
mkdir -p "$build/wheels"
# From a copy of the packaged parts only: setuptools would otherwise walk build/ (root filesystems).
src=$(mktemp -d)
cp -a "$repo/pyproject.toml" "$repo/firmware" "$repo/drivers" "$repo/web" "$src/"
find "$src" -name __pycache__ -prune -exec rm -rf {} +
"$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$build/wheels" "$src"
rm -rf "$src"
if [ -n "${PJSUA2_WHEEL:-}" ]; then
	case "$PJSUA2_WHEEL" in
	*aarch64.whl) cp "$PJSUA2_WHEEL" "$build/wheels/" ;;
	*) echo "PJSUA2_WHEEL must be an aarch64 wheel: $PJSUA2_WHEEL" >&2; exit 2 ;;
	esac
else
	echo "WARNING: PJSUA2_WHEEL not given: the image will have no pjsua2 (the engine will not start)" >&2
fi

step "2/4 our stage"
stage="$build/stage-switchboard"
cp -a "$here/stage-switchboard" "$stage"
mkdir -p "$stage/01-product/files/wheels"
cp "$build/wheels/"*.whl "$stage/01-product/files/wheels/"
mkdir -p "$stage/02-system/files/units" "$stage/02-system/files/generated"
cp "$repo/systemd/"*.service "$repo/systemd/switchboard.conf" "$stage/02-system/files/units/"
cp "$here/render.py" "$stage/02-system/files/render.py"
"$PYTHON" "$here/render.py" files "$stage/02-system/files/generated"
step "stage ready: $stage"
[ "$prepare_only" = 1 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "pi-gen needs root (loop devices, chroot): run 'sudo make image'" >&2
	exit 2
fi

step "3/4 pi-gen $PIGEN_REF"
if [ ! -d "$build/pi-gen/.git" ]; then
	git clone --quiet --branch "$PIGEN_REF" "$PIGEN_REPO" "$build/pi-gen"
fi
git -C "$build/pi-gen" checkout --quiet "$PIGEN_REF"
# Stage 2 is Raspberry Pi OS Lite; only our stage (built on it) is exported as an image.
touch "$build/pi-gen/stage2/SKIP_IMAGES"
cat >"$build/pi-gen/config" <<EOF
IMG_NAME=switchboard
RELEASE=bookworm
DEPLOY_COMPRESSION=xz
LOCALE_DEFAULT=en_GB.UTF-8
TARGET_HOSTNAME=switchboard
KEYBOARD_KEYMAP=gb
TIMEZONE_DEFAULT=Etc/UTC
# No login user with a known password: the technician uses the serial console (own password), the
# office the web admin (setup code on first boot). SSH stays off.
FIRST_USER_NAME=pi
DISABLE_FIRST_BOOT_USER_RENAME=1
ENABLE_SSH=0
STAGE_LIST="stage0 stage1 stage2 $stage"
EOF
# pi-gen insists on a password for the first user; a random one nobody knows (no SSH, no getty).
echo "FIRST_USER_PASS=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" >>"$build/pi-gen/config"

step "4/4 building (each sub-stage is shown as it starts; full log: $build/pi-gen/work/*/build.log)"
(cd "$build/pi-gen" && ./build.sh) 2>&1 | tee "$build/pi-gen.log" | while IFS= read -r line; do
	case "$line" in
	*"Begin "* | *"End "* | *rror* | *WARNING*) printf '[%4ss] %s\n' "$(($(date +%s) - started))" "$line" ;;
	esac
done
status=${PIPESTATUS[0]}
if [ "$status" != 0 ]; then
	echo "pi-gen failed (exit $status); the end of its log:" >&2
	tail -n 30 "$build/pi-gen.log" >&2
	exit "$status"
fi
mkdir -p "$build/deploy"
cp "$build/pi-gen/deploy/"*switchboard* "$build/deploy/"
step "done: $(ls "$build/deploy")"
