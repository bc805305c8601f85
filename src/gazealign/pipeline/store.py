"""Atomic, deterministic writes of artifacts.

Every artifact is written to a temporary file in the same folder and renamed into place, so a
killed run leaves either the old file or the new one, never half of one. Writers are byte-for-byte
deterministic for equal inputs (fixed zip timestamps, sorted JSON keys), so a resumed run ends
with the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import io
import json
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


@contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; rename it onto ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def to_json_text(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, indent=2, default=_json_default) + "\n"


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


def arrays_to_bytes(arrays: Mapping[str, npt.ArrayLike]) -> bytes:
    """An ``.npz`` archive of ``arrays`` with fixed timestamps (``np.savez`` stamps the clock)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.save(member, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue())
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
