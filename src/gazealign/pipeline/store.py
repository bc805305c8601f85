"""Atomic, deterministic writes of artifacts.

Every artifact is written to a temporary file in the same folder and renamed into place, so a
killed run leaves either the old file or the new one, never half of one. Writers are byte-for-byte
deterministic for equal inputs (fixed zip timestamps, sorted JSON keys), so a resumed run ends
with the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gazealign.errors import DataError


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows.

    Linux reports it in /proc/self/status; elsewhere it is set and restored at once (the only
    portable way to read it).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Mode of a new file before the umask (what ``open()`` uses).
FILE_MODE = 0o666


@contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; rename it onto ``path`` on success.

    The file gets the permissions a plain ``open()`` would give it (0666 less the umask: 0644
    under umask 022), not ``mkstemp``'s owner-only 0600, so a shared results folder stays
    readable by the people it is shared with.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE & ~current_umask())
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise named(exc, path) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def named(exc: OSError, path: Path) -> OSError:
    """``exc`` with ``path`` as its file name when it has none (a failed flush names no file)."""
    if exc.filename is not None:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_files_together(files: Mapping[Path, bytes]) -> None:
    """Write several files as a set: all of them, or (on any failure while writing) none.

    Every file is first written in full to a temporary sibling and flushed to disk; only then
    are they renamed into place, so a full disk or a failed write leaves the previous set (or
    nothing) rather than a ``.npy`` without its ``.json``. The renames are each atomic; the set
    is as atomic as a folder allows without one more rename of a folder.
    """
    for path in files:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder, expected a file path", str(path))
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            os.fchmod(fd, FILE_MODE & ~current_umask())
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and staged:
            raise named(exc, staged[-1][1]) from exc
        raise


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def to_json_text(obj: Any, *, strict: bool = False) -> str:
    """Deterministic JSON text. ``strict``: non-finite numbers become ``null`` (JSON has no NaN)."""
    if strict:
        obj = _finite_or_null(obj)
        return (
            json.dumps(obj, sort_keys=True, indent=2, default=_json_default, allow_nan=False) + "\n"
        )
    return json.dumps(obj, sort_keys=True, indent=2, default=_json_default) + "\n"


def _finite_or_null(obj: Any) -> Any:
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {k: _finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_null(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _finite_or_null(obj.tolist())
    return obj


def write_json(path: Path, obj: Any) -> None:
    write_text(path, to_json_text(obj))


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


#: zlib level of the ``.npz`` archives: 1, the fastest. Float maps hardly compress at any level
#: (measured on the demo's items: explain maps 46 -> 14 ms per item against level 6, for 3.6 %
#: more bytes; stimulus items 5 -> 3 ms, 1 % more).
ZIP_LEVEL = 1


def arrays_to_bytes(arrays: Mapping[str, npt.ArrayLike]) -> bytes:
    """An ``.npz`` archive of ``arrays`` with fixed timestamps (``np.savez`` stamps the clock)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.save(member, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue(), compresslevel=ZIP_LEVEL)
    return buf.getvalue()


def write_arrays(path: Path, arrays: Mapping[str, npt.ArrayLike]) -> None:
    write_bytes(path, arrays_to_bytes(arrays))


def read_arrays(path: Path) -> dict[str, npt.NDArray[Any]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable array archive ({exc})") from None


def write_table(path: Path, table: pd.DataFrame, *, csv: bool = True) -> None:
    """Write ``table`` as Parquet (``path``) and, by default, a CSV twin beside it."""
    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    write_bytes(path, buf.getvalue())
    if csv:
        write_text(path.with_suffix(".csv"), table.to_csv(index=False, lineterminator="\n"))


def read_table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise DataError(f"{path}: not a readable Parquet table ({exc})") from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
