#!/usr/bin/env bash
# Builds pjproject's pjsua2 SWIG Python binding from source with Switchboard's config_site.h, packs
# it as a wheel and installs it into a Python environment in place of the PyPI wheel
# `pjsua2-python` (which allows 4 calls and has no sound devices). `make pjsua2` runs it with the
# project's venv. Works on x86-64 and aarch64 Debian 12 / Raspberry Pi OS (no arch-specific flags),
# and cross-builds the aarch64 wheel for the Pi image on an x86-64 Debian 12 machine.
#
# usage: pjsua2-build/build.sh [PYTHON]          PYTHON: the interpreter to build for (default: python3)
#
# environment:
#   PJPROJECT_SRC=DIR|FILE  a local pjproject 2.15.1 source tree (git checkout or unpacked release)
#                           or the release .tar.gz, for machines without internet. It is copied,
#                           never built in. Unset: the release tarball is downloaded and its
#                           SHA-256 checked against PJPROJECT_SHA256 below.
#   PJSUA2_BUILD_DIR=DIR    where to build (default: <repo>/build/pjsua2); the wheel goes to DIR/dist
#   PJSUA2_INSTALL=0        only build the wheel (e.g. for the Pi image); default 1 installs it
#   JOBS=N                  parallel make jobs (default: nproc)
#   PJSUA2_ARCH=aarch64     the machine to build for (default: this one). Another one than this
#                           machine's is a cross build: Debian's cross compiler and that machine's
#                           libraries and Python 3.11 headers (multiarch, installed here), a wheel
#                           tagged for it and not installed (pjsua2-build/check_arm64.sh runs it
#                           under qemu). PYTHON then only runs SWIG's generator and the packing.
set -euo pipefail

PJPROJECT_VERSION=2.15.1
PJPROJECT_URL="https://github.com/pjsip/pjproject/archive/refs/tags/${PJPROJECT_VERSION}.tar.gz"
# SHA-256 of the file at PJPROJECT_URL. Computed from the tag's archive made the way GitHub makes
# it (`git archive --format=tar --prefix=pjproject-2.15.1/ 2.15.1 | gzip -n` in a pjproject clone,
# tag commit 7de6e686fee1642f5443a3f39f0e5ad5e478a117); other projects pin the same value for this
# URL. Worth one `curl -fL <url> | sha256sum` on a machine with internet to confirm. To pin another
# release, use either command. An empty value makes the script refuse any downloaded tarball.
PJPROJECT_SHA256=8f3bd99caf003f96ed8038b8a36031eb9d8cd9eaea1eaff7e01c2eef6bd55706
# The pin of pyproject.toml this build stands in for. The wheel is `pjsua2-python` version
# "<pin>+switchboard", which still satisfies `pjsua2-python==<pin>`, so re-running the venv install
# keeps it. If pyproject.toml's pin changes, pip replaces this build with the PyPI wheel: rebuild.
PJSUA2_PYPI_PIN=2.15.1.post1
WHEEL_VERSION="${PJSUA2_PYPI_PIN}+switchboard"

CONFIGURE_FLAGS=(
  # audio only: no video stack or video codecs
  --disable-video --disable-libyuv --disable-libwebrtc --disable-v4l2 --disable-sdl
  --disable-ffmpeg --disable-openh264 --disable-vpx
  # optional libraries configure would pick up if their -dev package happens to be installed:
  # off, so the wheel's run-time dependencies are the same on every build machine
  --disable-upnp --disable-opencore-amr --disable-silk --disable-bcg729 --disable-lyra
  # epoll ioqueue: no FD_SETSIZE (1024) limit on socket descriptor numbers (see config_site.h)
  --enable-epoll
  # static libraries (the default): the module then needs no libpj*.so at run time. ALSA, the
  # distribution's OpenSSL and Opus are found by configure and checked after it.
)
DEBS=(build-essential pkg-config swig libasound2-dev libssl-dev libopus-dev)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
# The target machine. Cross: Debian's multiarch names for it (the only cross target so far is the Pi).
TARGET_ARCH=${PJSUA2_ARCH:-$(uname -m)}
CROSS=""
if [ "$TARGET_ARCH" != "$(uname -m)" ]; then
  case "$TARGET_ARCH" in
    aarch64|arm64) TARGET_ARCH=aarch64 CROSS=aarch64-linux-gnu DEB_ARCH=arm64 ;;
    *) echo "build.sh: no cross build for PJSUA2_ARCH=$TARGET_ARCH (only aarch64)" >&2; exit 2 ;;
  esac
  # The Pi's Python (Debian 12 / Raspberry Pi OS bookworm): its headers, tag and module suffix.
  TARGET_PY=3.11
  DEBS=(build-essential pkg-config swig "crossbuild-essential-$DEB_ARCH" qemu-user-static
        "libasound2-dev:$DEB_ARCH" "libssl-dev:$DEB_ARCH" "libopus-dev:$DEB_ARCH"
        "libpython$TARGET_PY-dev:$DEB_ARCH")
fi
PYTHON=${1:-${PYTHON:-python3}}
PYTHON=$(command -v "$PYTHON") || { echo "build.sh: no Python interpreter '${1:-python3}'" >&2; exit 2; }
# Absolute (the build runs in other directories), but not resolved: a venv's python is a symlink.
case "$PYTHON" in
  /*) ;;
  *) PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")" ;;
esac
BUILD_DIR=${PJSUA2_BUILD_DIR:-$ROOT/build/pjsua2}
BUILD_DIR=$(mkdir -p "$BUILD_DIR" && cd "$BUILD_DIR" && pwd)
SRC="$BUILD_DIR/pjproject-$PJPROJECT_VERSION"
DIST="$BUILD_DIR/dist"
LOGS="$BUILD_DIR/logs"
JOBS=${JOBS:-$(nproc)}
INSTALL=${PJSUA2_INSTALL:-1}
[ -z "$CROSS" ] || INSTALL=0  # an arm64 module cannot load in this machine's interpreter
mkdir -p "$LOGS" "$DIST"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

die() { echo "build.sh: $*" >&2; exit 1; }

# --- steps: each is timed; its output goes to logs/<name>.log, whose tail is shown on failure ----
TIMINGS=()
STEP=""
STEP_LOG=""
STEP_START=0
TOTAL_START=$SECONDS

begin() {
  STEP=$1
  STEP_LOG="$LOGS/$2.log"
  STEP_START=$SECONDS
  : >"$STEP_LOG"
  printf '==> %s (log: %s)\n' "$STEP" "${STEP_LOG#"$ROOT"/}"
}

end() {
  local took=$((SECONDS - STEP_START))
  TIMINGS+=("$(printf '  %-34s %4d s' "$STEP" "$took")")
  printf '    done in %d s\n' "$took"
  STEP=""
}

on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -n "$STEP" ]; then
    echo "build.sh: step '$STEP' failed (exit $rc); last lines of $STEP_LOG:" >&2
    tail -n 40 "$STEP_LOG" >&2 || true
  fi
}
trap on_exit EXIT

# With a second architecture added (the cross build) a bare name matches both installed copies:
# ask for this machine's copy, and by the bare name for packages of architecture "all".
deb_installed() {
  local status
  case "$1" in
    *:*) status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) ;;
    *) status=$(dpkg-query -W -f='${Status}' "$1:$(dpkg --print-architecture)" 2>/dev/null ||
                dpkg-query -W -f='${Status}' "$1" 2>/dev/null) ;;
  esac
  [ "$status" = "install ok installed" ]
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

verify_tarball() {
  local file=$1 got
  [ -n "$PJPROJECT_SHA256" ] || die "no pinned SHA-256 for pjproject $PJPROJECT_VERSION, refusing \
to use an unverified tarball. Pin it: set PJPROJECT_SHA256 in pjsua2-build/build.sh to the output of \
'curl -fL $PJPROJECT_URL | sha256sum' run on a trusted machine, or pass a source tree you trust \
with PJPROJECT_SRC=DIR."
  got=$(sha256_of "$file")
  [ "$got" = "$PJPROJECT_SHA256" ] || die "SHA-256 mismatch for $file: got $got, pinned \
$PJPROJECT_SHA256. Not using it."
  echo "sha256 ok: $got"
}

# --- 1. Debian packages --------------------------------------------------------------------------
begin "Debian packages" deps
PY_INCLUDE=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
PY_VER=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ -n "$CROSS" ]; then
  # Debian's headers for the target's Python: pyconfig.h in /usr/include/python3.11 picks the
  # target's own (/usr/include/<triplet>/python3.11) by the compiler's machine macros.
  PY_INCLUDE=/usr/include/python$TARGET_PY PY_VER=$TARGET_PY
  if ! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
    echo "adding the Debian architecture $DEB_ARCH (dpkg --add-architecture)" | tee -a "$STEP_LOG"
    $SUDO dpkg --add-architecture "$DEB_ARCH"
    $SUDO apt-get update -qq >>"$STEP_LOG" 2>&1
  fi
fi
missing=()
for p in "${DEBS[@]}"; do deb_installed "$p" || missing+=("$p"); done
if [ -z "$CROSS" ] && [ ! -f "$PY_INCLUDE/Python.h" ]; then
  # Debian's own interpreters get their headers from python3.X-dev; a pyenv or other self-built
  # Python ships them in its own include directory (checked again below).
  case "$PY_INCLUDE" in
    /usr/include/*) deb_installed "python$PY_VER-dev" || missing+=("python3-dev" "python$PY_VER-dev") ;;
  esac
fi
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  echo "installing Debian packages: ${missing[*]}" | tee -a "$STEP_LOG"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"; } >>"$STEP_LOG" 2>&1
fi
[ -f "$PY_INCLUDE/Python.h" ] || die "no Python.h for $PYTHON (looked in $PY_INCLUDE): install that \
interpreter's development headers"
if [ -n "$CROSS" ]; then
  [ -f "/usr/include/$CROSS/python$TARGET_PY/pyconfig.h" ] || die "no $TARGET_ARCH pyconfig.h \
(/usr/include/$CROSS/python$TARGET_PY): install libpython$TARGET_PY-dev:$DEB_ARCH"
  command -v "$CROSS-g++" >/dev/null || die "no cross compiler $CROSS-g++ (crossbuild-essential-$DEB_ARCH)"
  echo "cross build for $TARGET_ARCH: $("$CROSS-g++" --version | head -n 1)" | tee -a "$STEP_LOG"
fi
"$PYTHON" -c 'import setuptools' 2>/dev/null || die "$PYTHON has no setuptools (needed by \
pjproject's setup.py): $PYTHON -m pip install setuptools"
echo "python: $PYTHON ($PY_VER, headers in $PY_INCLUDE); swig: $(swig -version | grep -i version)" | tee -a "$STEP_LOG"
end

# --- 2. Source: a local tree or tarball, or the pinned download; copied into the build dir -------
begin "source" source
rm -rf "$SRC" "$BUILD_DIR/unpack"
unpack() {  # tarball -> $SRC
  mkdir -p "$BUILD_DIR/unpack"
  tar -xzf "$1" -C "$BUILD_DIR/unpack"
  local top
  top=$(find "$BUILD_DIR/unpack" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  [ -n "$top" ] || die "$1 holds no directory"
  mv "$top" "$SRC"
  rm -rf "$BUILD_DIR/unpack"
}
if [ -n "${PJPROJECT_SRC:-}" ] && [ -d "$PJPROJECT_SRC" ]; then
  echo "copying $PJPROJECT_SRC" | tee -a "$STEP_LOG"
  mkdir -p "$SRC"
  tar -C "$PJPROJECT_SRC" --exclude=.git -cf - . | tar -C "$SRC" -xf -
elif [ -n "${PJPROJECT_SRC:-}" ] && [ -f "$PJPROJECT_SRC" ]; then
  echo "unpacking $PJPROJECT_SRC" | tee -a "$STEP_LOG"
  verify_tarball "$PJPROJECT_SRC" | tee -a "$STEP_LOG"
  unpack "$PJPROJECT_SRC"
elif [ -n "${PJPROJECT_SRC:-}" ]; then
  die "PJPROJECT_SRC=$PJPROJECT_SRC is neither a directory nor a file"
else
  tarball="$BUILD_DIR/download/pjproject-$PJPROJECT_VERSION.tar.gz"
  [ -n "$PJPROJECT_SHA256" ] || verify_tarball /dev/null  # refuses, with how to pin
  if [ ! -f "$tarball" ] || [ "$(sha256_of "$tarball")" != "$PJPROJECT_SHA256" ]; then
    mkdir -p "$(dirname "$tarball")"
    echo "downloading $PJPROJECT_URL" | tee -a "$STEP_LOG"
    if command -v curl >/dev/null; then
      curl -fL --retry 3 -o "$tarball.part" "$PJPROJECT_URL" >>"$STEP_LOG" 2>&1
    else
      wget -O "$tarball.part" "$PJPROJECT_URL" >>"$STEP_LOG" 2>&1
    fi
    verify_tarball "$tarball.part" | tee -a "$STEP_LOG"
    mv "$tarball.part" "$tarball"
  else
    verify_tarball "$tarball" | tee -a "$STEP_LOG"
  fi
  unpack "$tarball"
fi
if [ ! -f "$SRC/version.mak" ] || [ ! -f "$SRC/pjsip-apps/src/swig/pjsua2.i" ]; then
  die "$SRC does not look like a pjproject source tree (no version.mak or swig/pjsua2.i)"
fi
got_version=$(sed -n 's/^export PJ_VERSION_\(MAJOR\|MINOR\|REV\) *:= *\([0-9]*\).*/\2/p' "$SRC/version.mak" | paste -sd. | sed "s/\\.$//")
[ "$got_version" = "$PJPROJECT_VERSION" ] || die "the source is pjproject $got_version, this recipe \
is for $PJPROJECT_VERSION (PJPROJECT_VERSION in pjsua2-build/build.sh)"
# A tree that was configured or built in place would bring its objects and settings along.
if [ -f "$SRC/build.mak" ]; then (cd "$SRC" && make distclean) >>"$STEP_LOG" 2>&1 || true; fi
rm -rf "$SRC/pjsip-apps/src/swig/python/build" "$SRC/pjsip-apps/src/swig/python/pjsua2_wrap."* \
  "$SRC/pjsip-apps/src/swig/python/pjsua2.py"
cp "$HERE/config_site.h" "$SRC/pjlib/include/pj/config_site.h"
echo "pjproject $got_version in $SRC, with pjsua2-build/config_site.h" | tee -a "$STEP_LOG"
end

# --- 3. configure --------------------------------------------------------------------------------
export CFLAGS="-fPIC -O2" CXXFLAGS="-fPIC -O2"
if [ -n "$CROSS" ]; then
  # configure turns TLS off in a cross build unless told where OpenSSL is (multiarch: /usr)
  CONFIGURE_FLAGS+=(--host="$CROSS" --with-ssl=/usr)
  export CC="$CROSS-gcc" CXX="$CROSS-g++" AR="$CROSS-ar" RANLIB="$CROSS-ranlib"
  # Only the target's .pc files: this machine's would hand configure x86-64 library paths.
  export PKG_CONFIG_LIBDIR="/usr/lib/$CROSS/pkgconfig:/usr/share/pkgconfig" PKG_CONFIG_PATH=""
fi
NM=${CROSS:+$CROSS-}nm
STRIP=${CROSS:+$CROSS-}strip
begin "configure" configure
(cd "$SRC" && ./configure "${CONFIGURE_FLAGS[@]}") >>"$STEP_LOG" 2>&1
# What configure found decides what the box can do: insist on it rather than discover it later.
grep -q -- '-lasound' "$SRC/build.mak" || die "configure found no ALSA (libasound2-dev)"
grep -q -- '-lssl' "$SRC/build.mak" || die "configure found no OpenSSL (libssl-dev)"
grep -q -- '-lopus' "$SRC/build.mak" || die "configure found no Opus (libopus-dev)"
grep -q 'ioqueue_epoll' "$SRC/pjlib/build/os-auto.mak" || die "configure did not select the epoll ioqueue"
end

# --- 4./5. make dep && make lib ------------------------------------------------------------------
begin "make dep (-j$JOBS)" make-dep
make -C "$SRC" -j"$JOBS" dep >>"$STEP_LOG" 2>&1
end
begin "make lib (-j$JOBS)" make-lib
make -C "$SRC" -j"$JOBS" lib >>"$STEP_LOG" 2>&1
end

# --- 6. the effective limits, compiled against the configured headers and libraries -------------
begin "probe limits" probe
SWIG_PY="$SRC/pjsip-apps/src/swig/python"
helper() { make -s --no-print-directory -C "$SWIG_PY" -f helper.mak "$1" | tr '\n' ' '; }
read -r -a PJ_CFLAGS <<<"$(helper cflags)"
read -r -a PJ_LDFLAGS <<<"$(helper ldflags)"
read -r -a PJ_LIBS <<<"$(helper libs | sed -E 's/(^| )([^ ]+)/\1-l\2/g')"
cat >"$BUILD_DIR/probe.cpp" <<'EOF'
#include <pjsua-lib/pjsua.h>
#include <cstdio>
int main() {
    std::printf("{\"max_calls\": %d, \"max_conf_ports\": %d, \"max_players\": %d, "
                "\"max_recorders\": %d, \"max_acc\": %d, \"ioqueue_max_handles\": %d, "
                "\"ioqueue\": \"%s\", \"video\": %d, \"ssl_sock\": %d, \"ssl_openssl\": %d, "
                "\"opus\": %d}\n",
                (int)PJSUA_MAX_CALLS, (int)PJSUA_MAX_CONF_PORTS, (int)PJSUA_MAX_PLAYERS,
                (int)PJSUA_MAX_RECORDERS, (int)PJSUA_MAX_ACC, (int)PJ_IOQUEUE_MAX_HANDLES,
                pj_ioqueue_name(), (int)PJMEDIA_HAS_VIDEO, (int)PJ_HAS_SSL_SOCK,
                (int)(PJ_SSL_SOCK_IMP == PJ_SSL_SOCK_IMP_OPENSSL),
                (int)PJMEDIA_HAS_OPUS_CODEC);
    return 0;
}
EOF
{
  "${CXX:-c++}" "${PJ_CFLAGS[@]}" -o "$BUILD_DIR/probe" "$BUILD_DIR/probe.cpp" \
    "${PJ_LDFLAGS[@]}" "${PJ_LIBS[@]}"
  # Cross: the probe is a target binary; qemu runs it with the target's libraries installed here.
  ${CROSS:+qemu-$TARGET_ARCH-static} "$BUILD_DIR/probe" >"$BUILD_DIR/limits.json"
} >>"$STEP_LOG" 2>&1
tee -a "$STEP_LOG" <"$BUILD_DIR/limits.json"
"$PYTHON" - "$BUILD_DIR/limits.json" >>"$STEP_LOG" 2>&1 <<'EOF' || die "the build does not have Switchboard's settings: $(cat "$BUILD_DIR/limits.json")"
import json, sys
got = json.load(open(sys.argv[1]))
want = {"video": 0, "ssl_sock": 1, "ssl_openssl": 1, "opus": 1}
bad = {k: got[k] for k, v in want.items() if got[k] != v}
if not got["ioqueue"].startswith("epoll"):  # pj_ioqueue_name() gives "epoll[<flags>]"
    bad["ioqueue"] = got["ioqueue"]
assert not bad and got["max_calls"] >= 256, bad
EOF
# The sound backend is a private compile flag of pjmedia, not in the headers: look for its code.
$NM -g --defined-only "$SRC"/pjmedia/lib/libpjmedia-audiodev-*.a 2>/dev/null \
  | grep " T pjmedia_alsa_factory$" >/dev/null || die "the build has no ALSA sound device backend"
echo "ALSA sound device backend: yes" | tee -a "$STEP_LOG"
end

# --- 7. the SWIG module for this interpreter -----------------------------------------------------
begin "swig + python module" swig
if [ -z "$CROSS" ]; then
  # pyenv's and other self-built Pythons link extensions with -Wl,-rpath,<their lib dir>: plain
  # "cc -shared" keeps the build machine's paths out of the module (it does not link libpython).
  LDSHARED="${CC:-cc} -shared" make -C "$SWIG_PY" PYTHON_EXE="$PYTHON" >>"$STEP_LOG" 2>&1
  MODULE=$(find "$SWIG_PY/build" -name "_pjsua2*.so" | head -n 1)
else
  # setup.py would compile with this machine's interpreter settings (its pyconfig.h and module
  # suffix): SWIG's generator runs here, the wrapper is compiled as setup.py would, by the cross
  # compiler against the target's headers (Debian's extension suffix for the target).
  make -C "$SWIG_PY" pjsua2_wrap.cpp >>"$STEP_LOG" 2>&1
  mkdir -p "$SWIG_PY/build"
  MODULE="$SWIG_PY/build/_pjsua2.cpython-${TARGET_PY/./}-$CROSS.so"
  (cd "$SWIG_PY" && "$CXX" -shared -fwrapv -I"$PY_INCLUDE" "${PJ_CFLAGS[@]}" -o "$MODULE" \
    pjsua2_wrap.cpp "${PJ_LDFLAGS[@]}" "${PJ_LIBS[@]}") >>"$STEP_LOG" 2>&1
  "$CROSS-readelf" -h "$MODULE" | grep -q "Machine: *AArch64" || die "$MODULE is not an $TARGET_ARCH module"
fi
GENERATED_PY="$SWIG_PY/pjsua2.py"
if [ -z "$MODULE" ] || [ ! -f "$GENERATED_PY" ]; then die "setup.py built no _pjsua2 module"; fi
$STRIP --strip-unneeded "$MODULE"
echo "$MODULE ($(du -h "$MODULE" | cut -f1))" | tee -a "$STEP_LOG"
end

# --- 8. the wheel, with the build facts that firmware/telephony/capacity.py reads ---------------
begin "wheel" wheel
INFO="$BUILD_DIR/switchboard_pjsua2_build.json"
"$PYTHON" - "$BUILD_DIR/limits.json" "$INFO" "$PJPROJECT_VERSION" "$TARGET_ARCH" <<'EOF'
import datetime, json, sys
limits, out, version, machine = sys.argv[1:]
lim = json.load(open(limits))
info = {
    "max_calls": lim["max_calls"],
    "config": "switchboard config_site.h",
    "pjproject": version,
    "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "machine": machine,
    "limits": {k: lim[k] for k in ("max_conf_ports", "max_players", "max_recorders", "max_acc",
                                   "ioqueue_max_handles")},
    "ioqueue": lim["ioqueue"],
}
open(out, "w").write(json.dumps(info, indent=2) + "\n")
EOF
CP="cp${PY_VER/./}"
TAG="$CP-$CP-linux_$TARGET_ARCH"
rm -f "$DIST"/pjsua2_python-*"-$TAG.whl"
WHEEL=$("$PYTHON" "$HERE/make_wheel.py" --module "$MODULE" --py "$GENERATED_PY" --info "$INFO" \
  --config-site "$HERE/config_site.h" --license "$SRC/COPYING" --version "$WHEEL_VERSION" \
  --pjproject "$PJPROJECT_VERSION" --out "$DIST" ${CROSS:+--tag "$TAG"})
echo "$WHEEL" | tee -a "$STEP_LOG"
cat "$INFO" >>"$STEP_LOG"
end

# --- 9. install into the environment in place of the PyPI wheel ---------------------------------
if [ "$INSTALL" = 1 ]; then
  begin "install" install
  "$PYTHON" -m pip uninstall -y pjsua2-python >>"$STEP_LOG" 2>&1
  "$PYTHON" -m pip install --no-deps --no-index --force-reinstall "$WHEEL" >>"$STEP_LOG" 2>&1
  pin=$(sed -n 's/.*"pjsua2-python==\([^;" ]*\).*/\1/p' "$ROOT/pyproject.toml" | head -n 1)
  if [ -n "$pin" ] && [ "$pin" != "$PJSUA2_PYPI_PIN" ]; then
    echo "WARNING: pyproject.toml pins pjsua2-python==$pin, this build stands in for" \
      "$PJSUA2_PYPI_PIN: the next venv install will replace it (update PJSUA2_PYPI_PIN)" | tee -a "$STEP_LOG"
  fi
  end

  begin "check the installed module" check
  "$PYTHON" - <<'EOF' 2>&1 | tee -a "$STEP_LOG"
import json, pathlib, pjsua2 as pj
info = json.loads(pathlib.Path(pj.__file__).with_name("switchboard_pjsua2_build.json").read_text())
ep = pj.Endpoint()
ep.libCreate()
cfg = pj.EpConfig()
cfg.uaConfig.threadCnt = 0
cfg.uaConfig.mainThreadOnly = True
cfg.uaConfig.maxCalls = info["max_calls"]
cfg.logConfig.consoleLevel = 0
cfg.logConfig.level = 0
ep.libInit(cfg)
codecs = sorted(c.codecId for c in ep.codecEnum2())
version = ep.libVersion().full
ep.libDestroy()
assert version == info["pjproject"], (version, info)
assert any(c.startswith("opus/") for c in codecs), codecs
print(f"pjsua2 {version} from {pj.__file__}: max_calls {info['max_calls']}, codecs {' '.join(codecs)}")
EOF
  end
fi

echo
echo "pjsua2 from source: $WHEEL"
[ "$INSTALL" = 1 ] && echo "installed into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
echo "timings:"
printf '%s\n' "${TIMINGS[@]}"
printf '  %-34s %4d s\n' "total" "$((SECONDS - TOTAL_START))"
