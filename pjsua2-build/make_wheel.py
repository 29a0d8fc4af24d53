"""Packs a built pjsua2 SWIG binding into a wheel (standard library only, so it works offline).

Called by pjsua2-build/build.sh with the interpreter the module was built for. The wheel has the same
layout as the PyPI wheel `pjsua2-python` (a `pjsua2` package holding `pjsua2.py` and `_pjsua2*.so`)
and the same distribution name with a local version label (`2.15.1.post1+switchboard`): that
satisfies the project's `pjsua2-python==2.15.1.post1` pin (PEP 440 ignores local labels for `==`),
so a later `pip install -e '.[test]'` keeps this build instead of putting the PyPI wheel back, and
`pip install --force-reinstall pjsua2-python==...` replaces it cleanly.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import sys
import sysconfig
import zipfile
from pathlib import Path

INIT = '''"""pjsua2 (pjproject {pjproject}) built from source by Switchboard's pjsua2-build/build.sh."""

from .pjsua2 import *  # noqa: F401,F403  (the SWIG module: Endpoint, Call, ...)
from . import pjsua2 as _bindings

__version__ = "{version}"


def __getattr__(name):  # names `import *` skips (leading underscore), as the PyPI wheel allows
    return getattr(_bindings, name)
'''


def wheel_tag() -> str:
    impl = f"cp{sys.version_info.major}{sys.version_info.minor}"
    abi = impl + (getattr(sys, "abiflags", "") or "")
    plat = re.sub(r"[^A-Za-z0-9_]", "_", sysconfig.get_platform())
    return f"{impl}-{abi}-{plat}"


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--module", required=True, type=Path, help="the built _pjsua2*.so")
    ap.add_argument("--py", required=True, type=Path, help="the SWIG-generated pjsua2.py")
    ap.add_argument("--info", required=True, type=Path, help="switchboard_pjsua2_build.json")
    ap.add_argument("--config-site", required=True, type=Path)
    ap.add_argument("--license", required=True, type=Path, help="pjproject's COPYING")
    ap.add_argument("--version", required=True, help="wheel version, e.g. 2.15.1.post1+switchboard")
    ap.add_argument("--pjproject", required=True, help="pjproject version, e.g. 2.15.1")
    ap.add_argument("--out", required=True, type=Path, help="directory for the wheel")
    ap.add_argument("--tag", help="wheel tag of a cross build, e.g. cp311-cp311-linux_aarch64 "
                    "(default: this interpreter's)")
    args = ap.parse_args()

    name, tag = "pjsua2_python", args.tag or wheel_tag()
    impl = tag.split("-")[0]  # cp311: the Python the module was compiled for
    if not re.fullmatch(r"cp3\d+", impl):
        ap.error(f"--tag {tag}: expected cp3X-cp3X-<platform>")
    python = f"3.{impl[3:]}"
    dist_info = f"{name}-{args.version}.dist-info"
    metadata = "\n".join([
        "Metadata-Version: 2.1",
        "Name: pjsua2-python",
        f"Version: {args.version}",
        f"Summary: pjsua2 Python binding of pjproject {args.pjproject}, built from source with "
        "Switchboard's config_site.h",
        "Home-page: https://www.pjsip.org",
        "License: GPL-2.0-or-later",
        "License-File: COPYING",
        f"Requires-Python: =={python}.*",
        "",
        "Built by Switchboard's pjsua2-build/build.sh from the pjproject release source with the "
        "project's pjsua2-build/config_site.h (included in the package). Limits are in "
        "pjsua2/switchboard_pjsua2_build.json.",
        "",
    ])
    wheel_meta = "\n".join([
        "Wheel-Version: 1.0",
        "Generator: switchboard pjsua2-build/make_wheel.py",
        "Root-Is-Purelib: false",
        f"Tag: {tag}",
        "",
    ])
    files: list[tuple[str, bytes]] = [
        ("pjsua2/__init__.py", INIT.format(pjproject=args.pjproject, version=args.version).encode()),
        ("pjsua2/pjsua2.py", args.py.read_bytes()),
        (f"pjsua2/{args.module.name}", args.module.read_bytes()),
        ("pjsua2/switchboard_pjsua2_build.json", args.info.read_bytes()),
        ("pjsua2-build/config_site.h", args.config_site.read_bytes()),
        (f"{dist_info}/METADATA", metadata.encode()),
        (f"{dist_info}/WHEEL", wheel_meta.encode()),
        (f"{dist_info}/licenses/COPYING", args.license.read_bytes()),
    ]
    record = [record_line(n, d) for n, d in files] + [f"{dist_info}/RECORD,,"]
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))

    args.out.mkdir(parents=True, exist_ok=True)
    wheel = args.out / f"{name}-{args.version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, data in files:
            info = zipfile.ZipInfo(n, date_time=(2000, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if n.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    print(wheel)


if __name__ == "__main__":
    main()
