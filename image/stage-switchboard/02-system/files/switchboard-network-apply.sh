#!/bin/bash
# NetworkManager profiles written by the console (`switchboard network set`) live on the data
# partition; the root is read-only with a RAM overlay, so they are copied into place at every boot
# and after each change, and NetworkManager is told to use them.
set -euo pipefail
src=/var/lib/switchboard/network
dst=/etc/NetworkManager/system-connections
[ -d "$src" ] || exit 0
install -d -m 700 "$dst"
for f in "$src"/*.nmconnection; do
	[ -e "$f" ] || continue
	install -m 600 -o root -g root "$f" "$dst/$(basename "$f")"
done
if systemctl -q is-active NetworkManager.service; then
	nmcli connection reload
	for f in "$src"/*.nmconnection; do
		[ -e "$f" ] || continue
		nmcli connection up "$(basename "$f" .nmconnection)" || true
	done
fi
