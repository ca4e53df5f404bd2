"""The installed version of payrisk: a leaf module, so that what records the version imports nothing else."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("payrisk")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installation
    __version__ = "0.0.0+unknown"
