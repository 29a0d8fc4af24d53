#!/bin/bash
# First boot: make the data partition (ext4, label sb-data) in the free space after the root
# partition, filling the card. Later boots: grow it when the card has room after it (the image was
# copied to a larger card). Runs before /var/lib/switchboard is mounted (switchboard-data.service).
# Safe to interrupt: each step is checked again on the next boot.
set -euo pipefail

LABEL=sb-data
ALIGN=8192 # sectors: 4 MiB

log() { echo "switchboard-data: $*"; }

if blkid -L "$LABEL" >/dev/null 2>&1; then
	part=$(blkid -L "$LABEL")
else
	part=""
fi

# The card the root partition is on (under overlayroot the real root is mounted at /media/root-ro).
root_src=$(findmnt -n -o SOURCE /media/root-ro 2>/dev/null || findmnt -n -o SOURCE /)
root_src=$(readlink -f "$root_src")
disk="/dev/$(lsblk -n -o PKNAME "$root_src" | head -n1)"
root_nr=$(cat "/sys/class/block/$(basename "$root_src")/partition")
data_nr=$((root_nr + 1))
case "$disk" in
*[0-9]) data_dev="${disk}p${data_nr}" ;;
*) data_dev="${disk}${data_nr}" ;;
esac

if [ -z "$part" ]; then
	if ! sfdisk --dump "$disk" | grep -q "^${data_dev} "; then
		root_start=$(sfdisk --dump "$disk" | awk -v d="$root_src" '$1 == d { gsub(",", "", $4); print $4 }')
		root_size=$(sfdisk --dump "$disk" | awk -v d="$root_src" '$1 == d { gsub(",", "", $6); print $6 }')
		start=$(((root_start + root_size + ALIGN - 1) / ALIGN * ALIGN))
		log "creating ${data_dev} from sector ${start} to the end of ${disk}"
		echo "start=${start}, type=83" | sfdisk --quiet --append --no-reread "$disk"
		partx --add --nr "$data_nr" "$disk"
		udevadm settle
	fi
	# A partition without a filesystem is ours, cut short before mkfs by a power cut; anything else
	# on it is not ours to erase.
	if [ -n "$(blkid -o value -s TYPE "$data_dev" || true)" ]; then
		log "${data_dev} holds a filesystem that is not ours (no label ${LABEL}); leaving it alone" >&2
		exit 1
	fi
	log "making an ext4 filesystem on ${data_dev}"
	mkfs.ext4 -q -F -L "$LABEL" -J size=16 -E lazy_itable_init=1 "$data_dev"
	udevadm settle
	exit 0
fi

# Grow: room after the data partition (only if it is the last one).
last=$(sfdisk --dump "$disk" | grep -c '^/dev/')
part_nr=$(cat "/sys/class/block/$(basename "$(readlink -f "$part")")/partition")
free=$(sfdisk --list-free "$disk" | awk '/^ *[0-9]+ +[0-9]+ +[0-9]+/ { s += $3 } END { print s + 0 }')
if [ "$part_nr" = "$last" ] && [ "$free" -ge $((ALIGN * 16)) ]; then
	log "growing ${part} over ${free} free sectors"
	echo ",+" | sfdisk --quiet --no-reread -N "$part_nr" "$disk"
	partx --update --nr "$part_nr" "$disk"
	e2fsck -f -p "$part" || [ $? -le 1 ]
	resize2fs "$part"
fi
