"""The configuration files the Pi image carries, rendered by pure functions (checked by
tests/unit/test_image.py) and written into the pi-gen stage by `image/build.sh`:

    python3 image/render.py files DIR          every generated file under DIR (paths as in the image)
    python3 image/render.py cmdline < in > out  pi-gen's cmdline.txt made ours
    python3 image/render.py config-txt < in > out  config.txt with our block appended (once)
    python3 image/render.py fstab < in > out    /etc/fstab with the data partition

Plain Python 3 standard library only: it runs on the build host, not in the product's venv.
"""

from __future__ import annotations

import sys
from pathlib import Path

DATA_DIR = "/var/lib/switchboard"
DATA_LABEL = "sb-data"
SERVICE_USER = "switchboard"
SERVICE_GROUPS = ("gpio", "dialout", "audio")
# Raspberry Pi OS's own first-boot init grows the root partition over the whole card, which would
# leave no room for the data partition; root keeps its built size (it is read-only anyway).
PI_OS_FIRSTBOOT = "init=/usr/lib/raspberrypi-sys-mods/firstboot"
# recurse=0: the overlay covers / only. The default (recurse=1) would also overlay the data
# partition, whose writes would then silently go to RAM.
OVERLAYROOT = "overlayroot=tmpfs:recurse=0"
CONFIG_MARK = "# --- switchboard ---"

# USB voice modems the driver knows (drivers/modem): vendor, product, what it is.
MODEMS = (
    ("0baf", "0303", "USRobotics USR5637"),
    ("0572", "1329", "Conexant CX93010 (Zoom 3095 and similar)"),
    ("0572", "1340", "Conexant CX93010 (other USB sticks)"),
)


def cmdline(original: str) -> str:
    """cmdline.txt: no kernel console on the UART (the technician console owns it and the two would
    interleave), the overlay root, and not Pi OS's first-boot root resize. One line, as the firmware
    wants it."""
    words = [w for w in original.split()
             if not w.startswith(("console=serial0", "console=ttyAMA", "console=ttyS", "overlayroot="))
             and w != PI_OS_FIRSTBOOT]
    return " ".join(words + [OVERLAYROOT]) + "\n"


def config_txt(original: str) -> str:
    """config.txt with the UART on (115200 8N1 on GPIO 14/15, /dev/serial0). Bluetooth is turned off
    so that serial0 is the full PL011 UART on a Pi 3/4 (the mini UART's baud rate follows the core
    clock); a Pi 5 has its own UART0 for the header pins."""
    if CONFIG_MARK in original:
        original = original[:original.index(CONFIG_MARK)].rstrip("\n") + "\n"
    block = "\n".join([
        CONFIG_MARK,
        "[all]",
        "enable_uart=1",
        "dtoverlay=disable-bt",
        "# the initramfs carries overlayroot",
        "auto_initramfs=1",
        "[pi5]",
        "dtparam=uart0=on",
        "[all]",
    ])
    return original.rstrip("\n") + "\n\n" + block + "\n"


def fstab_line() -> str:
    """The data partition, made on first boot by switchboard-data.service (hence x-systemd.requires:
    the mount waits for it). No nofail: without its data the box must not run on the RAM overlay."""
    options = ",".join(["defaults", "noatime", "commit=5", "x-systemd.requires=switchboard-data.service",
                        "x-systemd.device-timeout=60s"])
    return f"LABEL={DATA_LABEL} {DATA_DIR} ext4 {options} 0 2\n"


def fstab(original: str) -> str:
    """/etc/fstab with the data partition's line (once)."""
    kept = [line for line in original.splitlines() if f" {DATA_DIR} " not in line]
    return "\n".join(kept + [fstab_line().rstrip("\n")]) + "\n"


def udev_rules() -> str:
    """Stable names by USB port: the modem in port 1.3 is /dev/switchboard/modem-usb1.3 whatever
    order the kernel found the devices in; a headset there gets ALSA card id hs_1_3 and its
    hook-switch HID node /dev/switchboard/headset-usb1.3."""
    lines = ["# Switchboard: stable names for the voice modems and the USB headsets (by USB port).", ""]
    for vendor, product, name in MODEMS:
        lines += [f"# {name}",
                  f'SUBSYSTEM=="tty", SUBSYSTEMS=="usb", ATTRS{{idVendor}}=="{vendor}", '
                  f'ATTRS{{idProduct}}=="{product}", GROUP="dialout", MODE="0660", '
                  f'SYMLINK+="switchboard/modem-usb$attr{{devpath}}"']
    lines += ["",
              "# USB audio devices (headsets): an ALSA card id from the port, and the HID node of the hook switch.",
              'SUBSYSTEM=="sound", KERNEL=="card*", SUBSYSTEMS=="usb", ATTRS{devpath}=="?*", '
              'PROGRAM="/usr/lib/switchboard/alsa-card-id $attr{devpath}", ATTR{id}="%c"',
              'SUBSYSTEM=="hidraw", SUBSYSTEMS=="usb", ATTRS{bInterfaceClass}=="03", ATTRS{devpath}=="?*", '
              'GROUP="audio", MODE="0660", SYMLINK+="switchboard/headset-usb$attr{devpath}"',
              ""]
    return "\n".join(lines)


def polkit_rules() -> str:
    """What the service user may ask systemd for without a password (the console and updates run as
    that user, with NoNewPrivileges, so sudo is no way): reboot, power off, and starting, stopping or
    restarting the switchboard units."""
    return f"""// Switchboard: the console (reboot, shutdown, factory reset, network) and updates run as
// the service user; these are the only privileged things they may ask for.
polkit.addRule(function(action, subject) {{
    if (subject.user != "{SERVICE_USER}") {{
        return polkit.Result.NOT_HANDLED;
    }}
    if (action.id == "org.freedesktop.login1.reboot" ||
        action.id == "org.freedesktop.login1.reboot-multiple-sessions" ||
        action.id == "org.freedesktop.login1.power-off" ||
        action.id == "org.freedesktop.login1.power-off-multiple-sessions") {{
        return polkit.Result.YES;
    }}
    if (action.id == "org.freedesktop.systemd1.manage-units") {{
        var unit = action.lookup("unit") || "";
        var verb = action.lookup("verb") || "";
        if (unit.indexOf("switchboard-") == 0 &&
            (verb == "start" || verb == "stop" || verb == "restart")) {{
            return polkit.Result.YES;
        }}
    }}
    return polkit.Result.NOT_HANDLED;
}});
"""


def journald_conf() -> str:
    """The journal stays in RAM (the root is read-only) and small; the engine keeps its own log in
    the database on the data partition."""
    return "[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n"


def files() -> dict[str, str]:
    """Every generated file, by its path in the image."""
    return {
        "etc/udev/rules.d/70-switchboard.rules": udev_rules(),
        "etc/polkit-1/rules.d/50-switchboard.rules": polkit_rules(),
        "etc/systemd/journald.conf.d/switchboard.conf": journald_conf(),
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["files"] and len(argv) == 2:
        for rel, text in files().items():
            path = Path(argv[1]) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return 0
    if argv == ["cmdline"]:
        sys.stdout.write(cmdline(sys.stdin.read()))
        return 0
    if argv == ["fstab"]:
        sys.stdout.write(fstab(sys.stdin.read()))
        return 0
    if argv == ["config-txt"]:
        sys.stdout.write(config_txt(sys.stdin.read()))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
