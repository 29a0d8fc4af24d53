#!/bin/bash -e
# The product's wheels (and the aarch64 pjsua2 wheel, when given) go into the image for the chroot
# step to install; build.sh put them in files/wheels.
install -d "${ROOTFS_DIR}/opt/switchboard/wheels"
install -m 644 files/wheels/*.whl "${ROOTFS_DIR}/opt/switchboard/wheels/"
