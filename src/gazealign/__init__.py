"""gazealign: do a neural network and people look at the same parts of a face?"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gazealign")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
