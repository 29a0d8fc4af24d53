#!/bin/bash -e
# Inside the image: the service user, and the product in its own venv (the factory release; updates
# add releases on the data partition, see firmware/update.py).
if ! id switchboard >/dev/null 2>&1; then
	useradd --system --user-group --home-dir /var/lib/switchboard --no-create-home \
		--shell /usr/sbin/nologin switchboard
fi
for group in gpio dialout audio; do
	getent group "$group" >/dev/null || groupadd --system "$group"
done
usermod -a -G gpio,dialout,audio switchboard

python3 -m venv /opt/switchboard/factory/venv
/opt/switchboard/factory/venv/bin/pip install --no-cache-dir --quiet --upgrade pip
# The product wheel first by name, so a pjsua2 wheel in the same folder satisfies its pin offline.
/opt/switchboard/factory/venv/bin/pip install --no-cache-dir --quiet \
	--find-links /opt/switchboard/wheels /opt/switchboard/wheels/*.whl
/opt/switchboard/factory/venv/bin/switchboard --help >/dev/null
if /opt/switchboard/factory/venv/bin/python -c 'import pjsua2' 2>/dev/null; then
	echo "pjsua2: installed"
else
	echo "WARNING: no pjsua2 in the image (PJSUA2_WHEEL was not given): the engine will not start" >&2
fi
# The units run /opt/switchboard/venv: the active release, chosen on the data partition
# (releases/current), which switchboard-init.service points at the factory venv on first boot.
ln -sfn /var/lib/switchboard/releases/current/venv /opt/switchboard/venv
