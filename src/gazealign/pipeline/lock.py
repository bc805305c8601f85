"""One run at a time per run folder: an advisory lock (``fcntl.flock``) on ``run_dir/.lock``.

The lock file records who holds it (process id, host, start time, command), so a second run on
the same folder is refused with a message naming the holder. The operating system releases the
lock when its holder exits, however it exits (a SIGKILL included): a lock is never left behind
by a dead run, and no "stale lock" guessing is needed. Once the lock is taken, what a dead run
left behind is cleaned up: ``*.partial`` folders of stage keys this run will not resume,
``*.discard`` folders, and temporary files of interrupted atomic writes.

``flock`` is advisory and per host on some network file systems: it serialises gazealign runs,
not other programs, and two machines sharing a folder over NFS rely on the server's lock support.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import sys
from collections.abc import Container, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from gazealign.errors import PipelineError
from gazealign.pipeline.store import named

LOCK_NAME = ".lock"


def holder_text(lock_path: Path) -> str:
    """Who holds (or last held) the lock at ``lock_path``, in words."""
    try:
        info = json.loads(lock_path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or not info:
        return "another process (it has not yet recorded its id)"
    return (
        f"process {info.get('pid', '?')} on host {info.get('host', '?')}, "
        f"started {info.get('started_utc', '?')} ({info.get('command', '?')})"
    )


def lock_is_held(lock_path: Path) -> bool:
    """Whether some process holds the lock at ``lock_path`` now (tries it without waiting)."""
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextmanager
def run_folder_lock(run_dir: Path) -> Iterator[Path]:
    """Hold the lock of ``run_dir`` for the duration of the block; refuse if it is held.

    Raises :class:`~gazealign.errors.PipelineError` naming the holder when another process
    holds it.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PipelineError(
                f"{run_dir}: another run is using this run folder: {holder_text(path)}; "
                "wait for it to finish, or give this study another [study] run_dir"
            ) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200],
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info, sort_keys=True) + "\n").encode(), 0)
            os.fsync(fd)
        except OSError as exc:
            raise named(exc, path) from exc
        yield path
    finally:
        os.close(fd)  # closing releases the lock


def clean_leftovers(run_dir: Path, keep_partial: Container[str]) -> list[Path]:
    """Remove what dead runs left in ``run_dir``; call only while holding its lock.

    ``keep_partial`` holds the ``stages/<stage>/<key>.partial`` paths (relative to ``run_dir``,
    as POSIX strings) this run resumes; every other ``.partial`` folder, every ``.discard``
    folder and every temporary file of an interrupted write (``.<name>.<random>.tmp``) goes.
    Returns the removed paths.
    """
    removed: list[Path] = []
    stages = run_dir / "stages"
    if stages.is_dir():
        for folder in sorted(stages.glob("*/*")):
            rel = folder.relative_to(run_dir).as_posix()
            stray = folder.name.endswith(".discard") or (
                folder.name.endswith(".partial") and rel not in keep_partial
            )
            if stray and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    for tmp in sorted(run_dir.rglob(".*.tmp")):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed
