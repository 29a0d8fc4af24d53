"""drivers/audio: headsets found by identity in /proc/asound and /sys (fake trees laid out as the
kernel does), the pjsua2 device picked and re-validated, and hot-plug changes reported once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drivers.audio import DeviceNotFound, find, parse_cards, pick_device, presence_changes, scan
from drivers.audio.devices import validated
from drivers.audio.discovery import usb_port_of
from drivers.audio.simulated import FakeCard, FakeSoundTree
from drivers.audio.watcher import HeadsetWatcher

# A Raspberry Pi 4 with HDMI audio and two USB headsets (as /proc/asound/cards prints it).
PI_CARDS = """\
 0 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0
                      vc4-hdmi-0
 1 [Headset        ]: USB-Audio - Jabra EVOLVE 20 MS
                      GN Netcom A/S Jabra EVOLVE 20 MS at usb-0000:01:00.0-1.3, full speed
 2 [Device         ]: USB-Audio - USB PnP Sound Device
                      C-Media Electronics Inc. USB PnP Sound Device at usb-0000:01:00.0-1.4, full speed
"""
USB_HOST = "sys/devices/platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb1/1-1"


def kernel_tree(root: Path, cards_text: str = PI_CARDS, capture: dict | None = None) -> Path:
    """/proc/asound and /sys/class/sound as the kernel lays them out for PI_CARDS."""
    capture = capture or {}
    (root / "proc/asound").mkdir(parents=True)
    (root / "proc/asound/cards").write_text(cards_text)
    places = {0: "sys/devices/platform/soc/fef00700.hdmi", 1: f"{USB_HOST}/1-1.3/1-1.3:1.0",
              2: f"{USB_HOST}/1-1.4/1-1.4:1.0"}
    for index, place in places.items():
        proc = root / f"proc/asound/card{index}"
        (proc / "pcm0p").mkdir(parents=True)
        if capture.get(index, index > 0):
            (proc / "pcm0c").mkdir()
        device = root / place / "sound" / f"card{index}"
        device.mkdir(parents=True)
        link = root / f"sys/class/sound/card{index}"
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(device, link.parent))
    return root


def test_cards_parsed_with_their_ids_names_and_usb_bus_paths():
    cards = parse_cards(PI_CARDS)
    assert [(c.index, c.id, c.driver, c.name) for c in cards] == [
        (0, "vc4hdmi0", "vc4-hdmi", "vc4-hdmi-0"), (1, "Headset", "USB-Audio", "Jabra EVOLVE 20 MS"),
        (2, "Device", "USB-Audio", "USB PnP Sound Device")]
    assert [c.usb_bus_path for c in cards] == [None, "usb-0000:01:00.0-1.3", "usb-0000:01:00.0-1.4"]
    assert parse_cards("--- no soundcards ---\n") == []


def test_scan_finds_usb_ports_and_directions_in_the_kernel_trees(tmp_path):
    cards = scan(kernel_tree(tmp_path))
    assert [(c.id, c.usb_port, c.playback, c.capture, c.is_headset) for c in cards] == [
        ("vc4hdmi0", None, True, False, False), ("Headset", "1-1.3", True, True, True),
        ("Device", "1-1.4", True, True, True)]
    assert usb_port_of("/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2/3-2.1/3-2.1:1.0/sound/card1") == "3-2.1"


@pytest.mark.parametrize("identity, card", [("Headset", 1), ("1-1.4", 2), ("usb-0000:01:00.0-1.3", 1),
                                            ("USB PnP Sound Device", 2), ("vc4hdmi0", None), ("1-1.2", None)])
def test_a_headset_is_found_by_id_port_bus_path_or_name_never_a_non_headset(tmp_path, identity, card):
    found = find(scan(kernel_tree(tmp_path)), identity)
    assert (found.index if found else None) == card


def test_a_card_that_cannot_record_is_not_a_headset(tmp_path):
    assert find(scan(kernel_tree(tmp_path, capture={1: False})), "Headset") is None


def test_no_alsa_at_all_is_no_cards(tmp_path):
    assert scan(tmp_path) == []


def test_same_headset_same_station_when_the_boot_order_swaps_indexes(tmp_path):
    swapped = PI_CARDS.replace(" 1 [Headset", " 9 [Headset").replace(" 2 [Device", " 1 [Device") \
                      .replace(" 9 [Headset", " 2 [Headset")
    first = find(scan(kernel_tree(tmp_path / "a")), "1-1.3")
    tree = tmp_path / "b"
    kernel_tree(tree, swapped)
    # In the swapped boot card 2 is the Jabra (sysfs follows /proc): re-link as the kernel would.
    for index, port in ((1, "1-1.4"), (2, "1-1.3")):
        link = tree / f"sys/class/sound/card{index}"
        link.unlink()
        device = tree / USB_HOST / port / f"{port}:1.0" / "sound" / f"card{index}"
        device.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(device, link.parent))
    second = find(scan(tree), "1-1.3")
    assert (first.index, first.id) == (1, "Headset") and (second.index, second.id) == (2, "Headset")


DEVICES = [("default", 1, 1), ("sysdefault:CARD=Headset", 1, 1), ("front:CARD=Headset,DEV=0", 0, 1),
           ("hw:CARD=Headset,DEV=0", 1, 1), ("plughw:CARD=Headset,DEV=0", 1, 1),
           ("hw:CARD=Device,DEV=0", 1, 1), ("plughw:CARD=Device,DEV=0", 0, 1)]


def test_pjsua2_device_picked_by_card_id_preferring_plughw():
    assert pick_device(DEVICES, "Headset") == 4
    assert pick_device(DEVICES, "Device") == 5  # its plughw cannot record here: hw is next


def test_no_device_for_a_card_says_why():
    with pytest.raises(DeviceNotFound, match="no capture-and-playback device for ALSA card 'Other'"):
        pick_device(DEVICES, "Other")
    with pytest.raises(DeviceNotFound, match="PyPI wheel is built without sound"):
        pick_device([], "Headset")


def test_an_index_is_revalidated_against_a_fresh_list_before_opening():
    assert validated(DEVICES, 4, "plughw:CARD=Headset,DEV=0")
    assert not validated(DEVICES[:4], 4, "plughw:CARD=Headset,DEV=0")  # the list shrank
    assert not validated(DEVICES, 3, "plughw:CARD=Headset,DEV=0")      # another device there now
    assert not validated(DEVICES, 2, "front:CARD=Headset,DEV=0")       # cannot record
    assert not validated(DEVICES, -1, "default")


def test_presence_reported_first_in_full_then_only_changes(tmp_path):
    cards = scan(kernel_tree(tmp_path))
    wanted = {"st1": "Headset", "st2": "1-1.2", "st3": None}
    first = presence_changes(cards, wanted, {})
    assert [(p.station, p.present, p.detail) for p in first] == [
        ("st1", True, "card 1 [Headset] Jabra EVOLVE 20 MS at USB 1-1.3"),
        ("st2", False, "headset '1-1.2' not found"), ("st3", False, "no headset configured")]
    known = {p.station: p.card for p in first}
    assert presence_changes(cards, wanted, known) == []
    assert [(p.station, p.present) for p in presence_changes([], wanted, known)] == [("st1", False)]


def test_watcher_sees_a_simulated_headset_unplugged_and_replugged_elsewhere(tmp_path):
    tree = FakeSoundTree(tmp_path)
    tree.plug(FakeCard("Other", "1-1.1"))
    tree.plug(FakeCard("Headset", "1-1.3", "Jabra EVOLVE 20 MS"))
    seen = []
    watcher = HeadsetWatcher({"st1": "Headset"}, seen.append, root=tmp_path)
    assert [(p.station, p.present, p.card.index) for p in watcher.poll()] == [("st1", True, 1)]
    assert watcher.poll() == []
    tree.unplug("Headset")
    assert [(p.station, p.present) for p in watcher.poll()] == [("st1", False)]
    tree.unplug("Other")
    tree.plug(FakeCard("Headset", "1-1.3", "Jabra EVOLVE 20 MS"))  # back, now as card 0
    assert [(p.present, p.card and p.card.index) for p in watcher.poll()] == [(True, 0)]
    assert len(seen) == 3


def test_watcher_thread_reports_changes_until_stopped(tmp_path):
    import threading

    tree = FakeSoundTree(tmp_path)
    tree.plug(FakeCard("Headset", "1-1.3"))
    changed = threading.Event()
    seen = []

    def on_change(presence):
        seen.append(presence)
        if not presence.present:
            changed.set()

    watcher = HeadsetWatcher({"st1": "Headset"}, on_change, root=tmp_path, interval_s=0.05)
    watcher.start()
    try:
        tree.unplug("Headset")
        assert changed.wait(5)
    finally:
        watcher.stop()
    assert [p.present for p in seen][-1] is False


def test_fake_tree_refuses_a_second_card_with_the_same_id(tmp_path):
    tree = FakeSoundTree(tmp_path)
    tree.plug(FakeCard("Headset", "1-1.3"))
    with pytest.raises(ValueError):
        tree.plug(FakeCard("Headset", "1-1.4"))
    with pytest.raises(KeyError):
        tree.unplug("Nothing")
