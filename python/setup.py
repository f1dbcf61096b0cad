"""Builds bpsim._core with CMake (python/CMakeLists.txt) and puts it into the package.

The module has a build tree of its own, position-independent and linked against shared
dependencies (python/CMakeLists.txt says why): BPSIM_PY_BUILD_DIR, default build-py at the
repository's root, so a second install reuses it (and ccache the objects). BPSIM_JOBS: the
build's parallel jobs (default: all cores)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = Path(os.environ.get("BPSIM_PY_BUILD_DIR", ROOT / "build-py"))
        env = dict(os.environ, CCACHE_NOHASHDIR=os.environ.get("CCACHE_NOHASHDIR", "1"))
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-DBPSIM_PYTHON=ON",
                        "-DCMAKE_POSITION_INDEPENDENT_CODE=ON", "-DBPSIM_STATIC_DEPS=OFF",
                        f"-DPython3_EXECUTABLE={sys.executable}",
                        "-DCMAKE_BUILD_TYPE=" + os.environ.get("BPSIM_BUILD_TYPE", "RelWithDebInfo")],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        jobs = os.environ.get("BPSIM_JOBS", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", str(build), "--target", "bpsim_python", "-j", jobs], check=True, env=env)
        built = next((build / "python" / "bpsim").glob("_core*.so"))
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target)


setup(ext_modules=[Extension("bpsim._core", sources=[])], cmdclass={"build_ext": CMakeBuild})
