#!/bin/bash -e
# The system around the product: units, the data partition, the UART console, the read-only root,
# device names, permissions. build.sh put the units, the generated files and render.py in files/.
boot="${ROOTFS_DIR}/boot/firmware"

install -m 644 files/units/*.service "${ROOTFS_DIR}/etc/systemd/system/"
install -D -m 644 files/units/switchboard.conf "${ROOTFS_DIR}/usr/lib/tmpfiles.d/switchboard.conf"
install -D -m 755 files/switchboard-data.sh "${ROOTFS_DIR}/usr/lib/switchboard/switchboard-data.sh"
install -D -m 755 files/alsa-card-id "${ROOTFS_DIR}/usr/lib/switchboard/alsa-card-id"
install -D -m 755 files/switchboard-network-apply.sh "${ROOTFS_DIR}/usr/lib/switchboard/switchboard-network-apply.sh"
(cd files/generated && find . -type f) | while read -r rel; do
	install -D -m 644 "files/generated/${rel}" "${ROOTFS_DIR}/${rel#./}"
done
install -d -m 750 "${ROOTFS_DIR}/var/lib/switchboard"

python3 files/render.py cmdline < "${boot}/cmdline.txt" > "${boot}/cmdline.txt.new"
mv "${boot}/cmdline.txt.new" "${boot}/cmdline.txt"
python3 files/render.py config-txt < "${boot}/config.txt" > "${boot}/config.txt.new"
mv "${boot}/config.txt.new" "${boot}/config.txt"
python3 files/render.py fstab < "${ROOTFS_DIR}/etc/fstab" > "${ROOTFS_DIR}/etc/fstab.new"
mv "${ROOTFS_DIR}/etc/fstab.new" "${ROOTFS_DIR}/etc/fstab"

on_chroot <<CHROOT
set -e
chown switchboard:switchboard /var/lib/switchboard
systemctl enable switchboard-data.service switchboard-init.service switchboard-network.service \
	switchboard-engine.service switchboard-web.service switchboard-console.service \
	switchboard-encoder.service switchboard-edge.service
# The distribution's own Kamailio unit would take port 5060 from the edge.
systemctl disable kamailio.service 2>/dev/null || true
# The console owns the UART: no login prompt there, no Bluetooth on it.
systemctl mask serial-getty@serial0.service serial-getty@ttyAMA0.service serial-getty@ttyS0.service
systemctl disable hciuart.service 2>/dev/null || true
# Nothing swaps to the SD card.
systemctl disable dphys-swapfile.service 2>/dev/null || true
# The initramfs must carry overlayroot's hook (the package's trigger may have run before config.txt
# asked for an initramfs).
update-initramfs -u -k all
CHROOT
