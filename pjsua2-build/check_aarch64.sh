#!/bin/bash
# Proves the cross-built aarch64 pjsua2 wheel runs: a Debian 12 arm64 root filesystem (debootstrap
# once, kept; run under qemu-user-static on x86-64), the wheel installed into a venv there as the
# image installs it, then pjsua2-build/selfcheck.py run on arm64: the engine's Endpoint settings
# with the build's call limit, the engine's build report, a SIP call over loopback with RTP counted,
# BYE and a clean libDestroy. Each step is printed with its time. `make pjsua2-aarch64` runs it
# after the build; `make pjsua2-aarch64-check` alone.
#
#   bash pjsua2-build/check_aarch64.sh [WHEEL]    (root; default: the wheel in build/pjsua2-aarch64/dist)
# environment: PJSUA2_CHECK_DIR (default build/pjsua2-aarch64: the root filesystem goes in rootfs/),
#              PYTHON (this machine's interpreter with pip, used to install into the arm64 venv),
#              DEBIAN_MIRROR.
# Exit 77 (skipped) only when this machine cannot run arm64 binaries, with the reason.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build=${PJSUA2_CHECK_DIR:-$repo/build/pjsua2-aarch64}
PYTHON=${PYTHON:-python3}
root="$build/rootfs"
venv=/opt/pjsua2-check/venv
started=$(date +%s)
last=$started
step() {
	local now
	now=$(date +%s)
	printf '[%4ss] (+%3ss) %s\n' "$((now - started))" "$((now - last))" "$*"
	last=$now
}

wheel=${1:-}
if [ -z "$wheel" ]; then  # the last of the build's wheels in version order
	for found in "$build"/dist/pjsua2_python-*-linux_aarch64.whl; do
		[ -f "$found" ] && wheel=$found
	done
fi
if [ -z "$wheel" ] || [ ! -f "$wheel" ]; then
	echo "no aarch64 pjsua2 wheel (${1:-$build/dist}): build it with 'make pjsua2-aarch64'" >&2
	exit 2
fi
case "$wheel" in
*-linux_aarch64.whl) ;;
*) echo "not an aarch64 wheel: $wheel" >&2; exit 2 ;;
esac
# The run-time libraries of the wheel are the image's (image/stage-switchboard/00-packages).
# shellcheck source=/dev/null  # image/arm64-root.sh, checked on its own
. "$repo/image/arm64-root.sh"
arm64_root "$build" python3,libssl3,libopus0,libasound2

# A fresh venv each run, the wheel installed by this machine's pip for the aarch64 target (pip under
# qemu takes minutes): the files the image's venv gets, imported and run below on arm64.
rm -rf "$root$venv"
chroot "$root" python3 -m venv --without-pip "$venv"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
	--target "$root$venv/lib/python3.11/site-packages" --platform linux_aarch64 \
	--implementation cp --python-version 3.11 --abi cp311 "$wheel"
rm -rf "$root/tmp/pjsua2-check" && mkdir -p "$root/tmp/pjsua2-check"
cp "$here/selfcheck.py" "$repo/firmware/telephony/capacity.py" "$root/tmp/pjsua2-check/"
step "installed $(basename "$wheel") into $venv of the arm64 root"

# /proc only while the chroot runs (mounted inside the source tree, it would be walked by any tool
# that walks the tree).
cleanup() { umount "$root/proc" 2>/dev/null || true; }
trap cleanup EXIT
mount -t proc proc "$root/proc"
step "selfcheck on arm64 (under qemu: its own times are the emulator's, not a Pi's)"
timeout 600 chroot "$root" "$venv/bin/python" /tmp/pjsua2-check/selfcheck.py \
	--capacity /tmp/pjsua2-check/capacity.py
step "done: $(basename "$wheel") runs on arm64"
