"""Build hook: puts libwsproto.so inside the package.

The library comes from, in order: the file named by WSPROTO_C_LIBRARY, or
``cargo build --release`` run at the repository root (two levels up), whose
``target/release/libwsproto.so`` is copied into the wheel. The wheel is
tagged for this platform since it carries a native library.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def find_library() -> Path:
    env = os.environ.get("WSPROTO_C_LIBRARY")
    if env:
        path = Path(env)
        if not path.is_file():
            raise SystemExit(f"WSPROTO_C_LIBRARY={env}: no such file")
        return path
    if not (ROOT / "Cargo.toml").is_file():
        raise SystemExit(
            "wsproto_c: not inside the wsproto repository; set WSPROTO_C_LIBRARY to the path of a built libwsproto.so"
        )
    subprocess.run(["cargo", "build", "--release", "--lib"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "libwsproto.so"


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        lib = find_library()
        dest = Path(self.build_lib) / "wsproto_c" / "libwsproto.so"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lib, dest)


class BinaryDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        return True


setup(cmdclass={"build_py": BuildPy}, distclass=BinaryDistribution)
