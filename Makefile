# The two commands a newcomer needs: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Debian packages: what the box runs with (speech for prompts, audio conversion, the SIP edge), and what the
# tests add (SIPp, a serial-cable stand-in, unit checks, a browser, a shell linter).
RUN_DEBS  := espeak-ng sox kamailio
# The recording encoder (Opus in WebM) and its check decode.
RUN_DEBS  += ffmpeg
TEST_DEBS := sip-tester socat systemd chromium shellcheck tcpdump
# The image's smoke test: a Debian arm64 root filesystem run under qemu.
TEST_DEBS += debootstrap qemu-user-static binfmt-support
STAMP  := $(VENV)/.installed
# `make pjsua2`: a pjproject source tree or tarball to build from (unset: download the pinned release).
PJPROJECT_SRC ?=
PJSUA2_BUILD_DIR ?= $(CURDIR)/build/pjsua2

.PHONY: run test unit deps test-deps install-debs clean pjsua2

run: $(STAMP)
	$(VENV)/bin/switchboard run --sim $(ARGS)

# Four workers on 2 cores: most tests wait on real time (calls, timeouts), not on the CPU. Tests are
# handed out one at a time, the long ones first (tests/conftest.py). Real-time audio checks (marked
# solo) run after the parallel part, alone: they measure the audio path of one engine, which another
# engine's start-up on the same 2 cores would disturb. Exit 5 = none selected.
test: $(STAMP) test-deps arm64-binfmt
	$(PY) -m pytest -n 4 --maxschedchunk 1 -m "not solo" $(PYTEST_ARGS)
	$(PY) -m pytest -m solo $(PYTEST_ARGS) || [ $$? -eq 5 ]

unit: $(STAMP) test-deps
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

deps:
	@$(MAKE) --no-print-directory install-debs DEBS="$(RUN_DEBS)"

test-deps:
	@$(MAKE) --no-print-directory install-debs DEBS="$(TEST_DEBS)"

install-debs:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml | deps
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache

# pjsua2 built from source with pjsua2-build/config_site.h (256 calls, ALSA, OpenSSL 3, Opus) in place of
# the PyPI wheel; the wheel is kept in $(PJSUA2_BUILD_DIR)/dist. See README, "Building pjsua2 from source".
pjsua2: $(STAMP)
	PJPROJECT_SRC='$(PJPROJECT_SRC)' PJSUA2_BUILD_DIR='$(PJSUA2_BUILD_DIR)' bash pjsua2-build/build.sh $(abspath $(PY))

# `make pjsua2-aarch64`: the same build for the Pi, cross-compiled on an x86-64 Debian 12 machine (Debian's
# arm64 cross compiler and multiarch libraries, installed by the script), then proven on arm64 under qemu
# by pjsua2-build/check_aarch64.sh (`make pjsua2-aarch64-check` alone). The wheel is kept in
# $(PJSUA2_AARCH64_DIR)/dist, where `make image` picks it up. See README, "Building pjsua2 from source".
PJSUA2_AARCH64_DIR ?= $(CURDIR)/build/pjsua2-aarch64
PJSUA2_AARCH64_WHEEL = $(lastword $(sort $(wildcard $(PJSUA2_AARCH64_DIR)/dist/pjsua2_python-*-linux_aarch64.whl)))
.PHONY: pjsua2-aarch64 pjsua2-aarch64-check
pjsua2-aarch64: $(STAMP)
	PJPROJECT_SRC='$(PJPROJECT_SRC)' PJSUA2_BUILD_DIR='$(PJSUA2_AARCH64_DIR)' PJSUA2_ARCH=aarch64 \
	  bash pjsua2-build/build.sh $(abspath $(PY))
	@$(MAKE) --no-print-directory pjsua2-aarch64-check

pjsua2-aarch64-check: $(STAMP) test-deps arm64-binfmt
	PYTHON=$(abspath $(PY)) PJSUA2_CHECK_DIR='$(PJSUA2_AARCH64_DIR)' bash pjsua2-build/check_aarch64.sh $(PJSUA2_AARCH64_WHEEL)

# `make bench`: the load benchmark. SIPp callers dial a line, press 1 in the IVR (RFC 4733), queue and are
# connected to SIPp operators, every call recorded; several concurrency levels (capped to what the pjsua2
# build allows); a table on stdout and JSON in bench/results/. `make soak`: a steady load for SOAK_MINUTES,
# failed calls and RSS growth. SIPp comes with test-deps. BENCH_PYTHON is the interpreter whose pjsua2 is
# measured (default: .venv's, the PyPI wheel: 4 SIP calls = 2 benchmark calls). See README, "Benchmarks".
BENCH_PYTHON ?= $(PY)
LEVELS ?= 1,10,30,60,120
CALL_SECONDS ?= 20
SOAK_MINUTES ?= 10
SOAK_CONCURRENCY ?= 10
SOAK_CALL_SECONDS ?= 30
BENCH_ARGS ?=

.PHONY: bench soak

bench: $(STAMP) test-deps
	$(BENCH_PYTHON) -m bench --python $(BENCH_PYTHON) --levels $(LEVELS) --call-seconds $(CALL_SECONDS) $(BENCH_ARGS)

# `make bench-modem`: the modem path (bench/modem.py): MODEM_LINES simulated modem lines in a call at once,
# engine CPU per line and the bridge's frame timing at the modem ports. See README, "Benchmarks".
MODEM_LINES ?= 4
MODEM_SECONDS ?= 30
.PHONY: bench-modem
bench-modem: $(STAMP)
	$(BENCH_PYTHON) -m bench modem --python $(BENCH_PYTHON) --lines $(MODEM_LINES) --seconds $(MODEM_SECONDS)

soak: $(STAMP) test-deps
	$(BENCH_PYTHON) -m bench soak --python $(BENCH_PYTHON) --minutes $(SOAK_MINUTES) \
	  --concurrency $(SOAK_CONCURRENCY) --call-seconds $(SOAK_CALL_SECONDS) $(BENCH_ARGS)

# `make reliability`: hostile SIP (corpus, fuzzer, SIPp), a scanner, the engine killed with calls up, power
# cuts on the database, a full disk (a tmpfs: needs root), a modem unplugged mid-call; long counts, a report
# per check (tried / held / figures) and JSON in reliability/results/. `make test` runs short versions
# (tests/e2e/test_reliability_*.py). REL_PYTHON: the engine's interpreter (so its pjsua2 build); REL_TARGET:
# HOST:PORT[/tcp] to aim the hostile SIP and the scan at a SIP edge instead; REL_ARGS: e.g. `sip scanner`.
REL_PYTHON ?= $(PY)
REL_TARGET ?=
REL_ARGS ?=

.PHONY: reliability

reliability: $(STAMP) test-deps
	$(PY) -m reliability --python $(REL_PYTHON) $(if $(REL_TARGET),--target $(REL_TARGET)) $(REL_ARGS)

# `make image`: the Raspberry Pi OS Lite 64-bit image (pi-gen; a machine with internet, root). The aarch64
# pjsua2 wheel comes from PJSUA2_WHEEL=path, by default the one `make pjsua2-aarch64` built (if any).
# `make bundle`: a release bundle for `switchboard update`. See README, "The Pi image" and "Updates".
PJSUA2_WHEEL ?=
BUNDLE_DIR ?= $(CURDIR)/build/bundle

.PHONY: image image-smoke bundle arm64-binfmt

image: $(STAMP)
	PYTHON=$(abspath $(PY)) PJSUA2_WHEEL='$(or $(PJSUA2_WHEEL),$(PJSUA2_AARCH64_WHEEL))' bash image/build.sh

image-smoke: $(STAMP) test-deps arm64-binfmt
	PYTHON=$(abspath $(PY)) bash image/smoke.sh

bundle: $(STAMP)
	$(PY) -m firmware.update build --out $(BUNDLE_DIR) $(if $(PJSUA2_WHEEL),--wheel $(PJSUA2_WHEEL))

# Let this machine run arm64 binaries (the image smoke test): binfmt_misc mounted and qemu-aarch64 enabled.
# Where a container forbids it the smoke test says so and is skipped.
arm64-binfmt:
	@if [ "$$(uname -m)" != aarch64 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  [ -e /proc/sys/fs/binfmt_misc/register ] || $$SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true; \
	  $$SUDO update-binfmts --enable qemu-aarch64 || true; \
	fi

# `make bench-web`: the web admin's response times (dashboard, its live poll, the calls page with filters)
# with WEB_BENCH_CALLS call records in the store (default 100,000); p50/p95/p99 per page, JSON in
# bench/results/web-*.json. See README, "Benchmarks".
WEB_BENCH_CALLS ?= 100000
WEB_BENCH_REQUESTS ?= 300
.PHONY: bench-web
bench-web: $(STAMP)
	$(PY) -m bench.web --calls $(WEB_BENCH_CALLS) --requests $(WEB_BENCH_REQUESTS)
