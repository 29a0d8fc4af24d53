"""The Pi image recipe: the files it generates (cmdline.txt, config.txt, fstab, udev, polkit), the
pi-gen stage layout, and the stage as `image/build.sh --prepare-only` hands it to pi-gen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from image import render

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "image" / "stage-switchboard"
# Raspberry Pi OS bookworm's cmdline.txt as pi-gen's stage1 writes it (ROOTDEV is filled in at export).
PI_GEN_CMDLINE = ("console=serial0,115200 console=tty1 root=ROOTDEV rootfstype=ext4 fsck.repair=yes rootwait "
                  "quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n")


def test_cmdline_moves_the_kernel_console_off_the_uart_and_mounts_the_overlay_root():
    out = render.cmdline(PI_GEN_CMDLINE)
    assert out.endswith("\n") and out.count("\n") == 1, "cmdline.txt must be one line"
    words = out.split()
    assert not any(w.startswith("console=serial0") for w in words)
    assert "console=tty1" in words and "root=ROOTDEV" in words and "rootwait" in words
    assert "overlayroot=tmpfs:recurse=0" in words, "recurse=1 would put the data partition in RAM"
    assert not any(w.startswith("init=") for w in words), "Pi OS's first boot would grow root over the card"
    assert render.cmdline(out) == out  # applying it twice changes nothing


def test_config_txt_turns_the_uart_on_once():
    original = "# For more options\ndtparam=audio=on\nauto_initramfs=1\n[all]\n"
    once = render.config_txt(original)
    assert once.startswith(original.rstrip("\n"))
    assert render.config_txt(once) == once
    lines = once.splitlines()
    assert "enable_uart=1" in lines and "dtoverlay=disable-bt" in lines
    pi5 = lines.index("[pi5]")
    assert lines[pi5 + 1] == "dtparam=uart0=on" and lines[-1] == "[all]"


def test_fstab_mounts_the_data_partition_once_after_it_is_made():
    original = "proc /proc proc defaults 0 0\nPARTUUID=abc-02 / ext4 defaults,noatime 0 1\n"
    once = render.fstab(original)
    assert render.fstab(once) == once
    line = once.splitlines()[-1].split()
    assert line[0] == "LABEL=sb-data" and line[1] == "/var/lib/switchboard" and line[2] == "ext4"
    options = line[3].split(",")
    assert "noatime" in options and "x-systemd.requires=switchboard-data.service" in options
    assert "nofail" not in options, "without its data partition the box must not run on the RAM overlay"
    assert (ROOT / "systemd" / "switchboard-data.service").exists()


UDEV_KEY = re.compile(r'^(\w+)(\{[^}]+\})?(==|!=|\+=|=|:=)"([^"]*)"$')
UDEV_MATCH = {"SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "ATTRS", "ATTR", "ACTION", "ENV"}
UDEV_ASSIGN = {"SYMLINK", "GROUP", "MODE", "PROGRAM", "ATTR", "ENV"}


def test_udev_rules_are_well_formed_and_name_every_modem_by_its_usb_port():
    rules = [line for line in render.udev_rules().splitlines() if line and not line.startswith("#")]
    for rule in rules:
        for pair in (p.strip() for p in rule.split(", ")):
            m = UDEV_KEY.match(pair)
            assert m, f"not a udev key: {pair!r} in {rule!r}"
            key, _, op, _ = m.groups()
            assert key in (UDEV_MATCH if op in ("==", "!=") else UDEV_ASSIGN), pair
    for vendor, product, _ in render.MODEMS:
        rule = next(r for r in rules if f'ATTRS{{idVendor}}=="{vendor}"' in r and f'"{product}"' in r)
        assert 'SYMLINK+="switchboard/modem-usb$attr{devpath}"' in rule and 'GROUP="dialout"' in rule
    assert any('SUBSYSTEM=="sound"' in r and 'ATTR{id}="%c"' in r for r in rules)
    assert any('SUBSYSTEM=="hidraw"' in r and 'GROUP="audio"' in r for r in rules)


@pytest.mark.parametrize("port, card_id", [("1.3", "hs_1_3"), ("2", "hs_2"), ("1.2.4", "hs_1_2_4")])
def test_headset_card_ids_are_alsa_safe(port, card_id):
    helper = STAGE / "02-system" / "files" / "alsa-card-id"
    out = subprocess.run([str(helper), port], capture_output=True, text=True, check=True).stdout
    assert out == card_id + "\n" and len(card_id) <= 15


def test_polkit_lets_the_service_user_reboot_and_manage_only_our_units():
    js = render.polkit_rules()
    assert 'subject.user != "switchboard"' in js
    assert '"org.freedesktop.login1.reboot"' in js and '"org.freedesktop.login1.power-off"' in js
    assert 'unit.indexOf("switchboard-") == 0' in js
    assert js.count("{") == js.count("}") and js.count("(") == js.count(")")


def test_the_stage_has_pi_gens_layout():
    assert os.access(STAGE / "prerun.sh", os.X_OK) and (STAGE / "EXPORT_IMAGE").exists()
    substages = sorted(p.name for p in STAGE.iterdir() if p.is_dir())
    assert substages == ["00-packages", "01-product", "02-system"]
    for script in STAGE.glob("*/[0-9][0-9]-run*.sh"):
        assert os.access(script, os.X_OK), f"pi-gen skips {script} unless it is executable"
    packages = (STAGE / "00-packages" / "00-packages").read_text().split()
    assert {"python3-venv", "overlayroot", "ffmpeg", "libopus0", "libasound2"} <= set(packages)
    chroot = (STAGE / "01-product" / "01-run-chroot.sh").read_text()
    assert "usermod -a -G gpio,dialout,audio switchboard" in chroot
    assert "python3 -m venv /opt/switchboard/factory/venv" in chroot


def test_every_enabled_unit_exists_and_every_unit_is_enabled():
    script = (STAGE / "02-system" / "00-run.sh").read_text()
    enabled = set(re.findall(r"(switchboard-[\w-]+\.service)", script.split("systemctl enable", 1)[1].split("\n#")[0]))
    units = {p.name for p in (ROOT / "systemd").glob("*.service")}
    assert enabled == units


def test_prepare_only_hands_pi_gen_a_complete_stage(tmp_path):
    env = dict(os.environ, IMAGE_BUILD_DIR=str(tmp_path), PYTHON=sys.executable, PJSUA2_WHEEL="")
    result = subprocess.run(["bash", str(ROOT / "image" / "build.sh"), "--prepare-only"], env=env,
                            capture_output=True, text=True, timeout=170)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1/4" in result.stdout and "2/4" in result.stdout  # progress
    assert "PJSUA2_WHEEL not given" in result.stderr
    stage = tmp_path / "stage-switchboard"
    assert list((stage / "01-product" / "files" / "wheels").glob("switchboard-*-py3-none-any.whl"))
    files = stage / "02-system" / "files"
    assert {p.name for p in (files / "units").iterdir()} >= {"switchboard-engine.service", "switchboard.conf"}
    for rel, text in render.files().items():
        assert (files / "generated" / rel).read_text() == text
    installed = (stage / "02-system" / "00-run.sh").read_text()
    for name in ("switchboard-data.sh", "alsa-card-id", "switchboard-network-apply.sh", "render.py"):
        assert (files / name).exists() and name in installed


def test_prepare_refuses_a_pjsua2_wheel_for_another_machine(tmp_path):
    wheel = tmp_path / "pjsua2_python-2.15.1.post1-cp311-cp311-linux_x86_64.whl"
    wheel.write_bytes(b"")
    env = dict(os.environ, IMAGE_BUILD_DIR=str(tmp_path / "b"), PYTHON=sys.executable, PJSUA2_WHEEL=str(wheel))
    result = subprocess.run(["bash", str(ROOT / "image" / "build.sh"), "--prepare-only"], env=env,
                            capture_output=True, text=True, timeout=170)
    assert result.returncode == 2 and "aarch64" in result.stderr


def test_scripts_without_sh_suffix_pass_shellcheck():
    for script in (STAGE / "02-system" / "files" / "alsa-card-id", STAGE / "prerun.sh"):
        result = subprocess.run(["shellcheck", "-x", "-s", "sh" if script.name == "alsa-card-id" else "bash",
                                 str(script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout
