# shellcheck shell=bash
# Sourced by image/smoke.sh and pjsua2-build/check_aarch64.sh: a Debian 12 arm64 root filesystem that
# runs on this machine (natively on arm64, under qemu-user-static elsewhere), made once with
# debootstrap and kept.
#
#   arm64_root BUILD_DIR EXTRA_PACKAGES    (comma-separated, e.g. "python3,libssl3")
#
# The root filesystem goes to BUILD_DIR/rootfs; it is made again when EXTRA_PACKAGES change. Exits 2
# when not run as root, 77 (skipped, with the reason) only when this machine cannot run arm64 binaries.
# Expects `step` (a progress line) from the caller.

arm64_root() {
	local build=$1 packages=$2 root="$1/rootfs" entry
	local mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
	if [ "$(id -u)" != 0 ]; then
		echo "this needs root (debootstrap, chroot)" >&2
		exit 2
	fi
	if [ "$(uname -m)" != aarch64 ]; then
		entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
		if [ ! -r "$entry" ] || ! grep -q '^enabled' "$entry"; then
			echo "SKIPPED: this machine cannot run arm64 binaries: no enabled qemu-aarch64 entry in" \
				"/proc/sys/fs/binfmt_misc ('make arm64-binfmt' installs qemu-user-static and" \
				"binfmt-support; in a container the host must allow binfmt_misc)" >&2
			exit 77
		fi
	fi
	mkdir -p "$build"
	local variant="bookworm minbase $packages"
	if [ "$(cat "$build/rootfs.complete" 2>/dev/null)" != "$variant" ]; then
		step "debootstrap bookworm arm64 into $root (once; kept for later runs)"
		rm -rf "$root"
		debootstrap --arch=arm64 --variant=minbase --include="$packages" \
			bookworm "$root" "$mirror" >"$build/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$build/debootstrap.log" >&2; exit 1; }
		echo "$variant" >"$build/rootfs.complete"
	fi
	if ! chroot "$root" /bin/true; then
		echo "SKIPPED: the arm64 root filesystem does not run here (binfmt_misc without the F flag?)" >&2
		exit 77
	fi
	step "arm64 runs: $(chroot "$root" uname -m), $(chroot "$root" python3 --version)"
}
