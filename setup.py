"""Build the optional compiled codec (mv2.format._codec_c) from its generated Cython source.

Everything else about the package is declared in pyproject.toml. The extension only makes
decoding faster; if it cannot be built (no C compiler), the package installs without it and
uses the generated pure-Python codec, which gives identical results.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any toolchain failure leaves the pure codec
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._skip(exc)

    def _skip(self, exc):
        if os.environ.get("MV2_REQUIRE_ACCELERATOR"):
            raise exc
        print(f"mv2: the compiled codec was not built ({exc}); the pure-Python codec will be used",
              file=sys.stderr)


def extensions():
    if os.environ.get("MV2_NO_ACCELERATOR"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    ext = Extension("mv2.format._codec_c", ["reference/mv2/format/_codec_c.pyx"], extra_compile_args=["-O2"])
    return cythonize([ext], language_level=3, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
