"""Atomic file writes: a temp file beside the target, flushed to disk, then renamed over it.

A crash mid-write leaves any earlier file at the target as it was. The temp file is named
``.NAME.XXXXXXXX.tmp`` and its writer holds an exclusive lock on it until the rename; a
write killed with SIGKILL leaves it behind unlocked, and the next write to the same
target removes it. A new file gets the mode the umask gives (0644 under umask 022); a
replaced file keeps its mode. Standard library only.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: stale temp files are found by age instead
    fcntl = None  # type: ignore[assignment]

__all__ = ["write_bytes_atomically", "check_writable", "remove_stale_temp_files"]

STALE_AFTER_S = 3600.0
"""Without file locks (Windows), a temp file older than this is taken to be a dead writer's."""


def _temp_name(path: Path) -> re.Pattern[str]:
    # tempfile.mkstemp's names: prefix, 8 characters of [a-z0-9_], suffix
    return re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")


def _umask() -> int:
    try:
        with open("/proc/self/status") as status:  # Linux: read it without changing it
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (momentarily process-wide)
    os.umask(mask)
    return mask


def remove_stale_temp_files(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temp files that earlier, killed writes to ``path`` left beside it; returns them.

    A temp file is stale when no writer holds its lock (or, without fcntl, when it is over
    STALE_AFTER_S old); a write in progress in another process is left alone. Other files,
    including other targets' temp files, are never touched. Errors are ignored: this is tidying.
    """
    path = Path(path)
    pattern = _temp_name(path)
    removed: list[Path] = []
    try:
        entries = [e for e in os.scandir(path.parent) if pattern.fullmatch(e.name) and e.is_file(follow_symlinks=False)]
    except OSError:
        return removed
    for entry in entries:
        temp = Path(entry.path)
        try:
            if fcntl is None:
                if time.time() - entry.stat().st_mtime > STALE_AFTER_S:
                    temp.unlink()
                    removed.append(temp)
                continue
            fd = os.open(temp, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its writer is alive
                if os.stat(temp).st_ino == os.fstat(fd).st_ino:
                    temp.unlink()
                    removed.append(temp)
            finally:
                os.close(fd)
        except OSError:
            continue
    return removed


def check_writable(target: str | os.PathLike[str]) -> Path:
    """``target`` as a Path, after checking a file can be written there; raises ValueError naming it.

    Refused: an empty name, a name ending in a slash (a directory), an existing directory or
    other non-regular file (a device, a FIFO), a missing directory, and a directory where a
    file cannot be created (checked by creating and removing a temp file there).
    """
    raw = os.fspath(target)
    seps = tuple(s for s in (os.sep, os.altsep, "/") if s)
    if raw == "":
        raise ValueError("'' is empty: expected a file name such as model.npz")
    if raw.endswith(seps):
        raise ValueError(f"{raw!r} ends with a slash: expected a file name, such as {raw}model.npz")
    path = Path(raw)
    if path.is_dir():
        raise ValueError(f"{raw!r} is a directory: expected a file name, such as {path / 'model.npz'}")
    if path.exists() and not path.is_file():
        raise ValueError(f"{raw!r} exists and is not a regular file")
    directory = path.parent
    if not directory.exists():
        raise ValueError(f"{raw!r}: cannot write: directory {directory} does not exist")
    if not directory.is_dir():
        raise ValueError(f"{raw!r}: cannot write: {directory} is not a directory")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as err:
        raise ValueError(f"{raw!r}: cannot write in directory {directory} ({err.strerror})") from None
    os.close(fd)
    os.unlink(temp)
    return path


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a locked temp file in the same directory and os.replace.

    Removes stale temp files of earlier writes to ``path`` first. A new file gets mode
    0666 minus the umask; an existing file keeps its mode. Raises OSError naming ``path``
    (not the temp file, which is removed) if the directory is missing or unwritable or the
    disk is full.
    """
    path = Path(path)
    remove_stale_temp_files(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise OSError(err.errno, f"cannot write {path}: {err.strerror}") from None
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held until the rename: the file is not stale
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            if fcntl is not None:
                os.replace(temp, path)  # still locked (POSIX renames an open file)
        if fcntl is None:  # pragma: no cover - Windows cannot rename an open file
            os.chmod(temp, mode)
            os.replace(temp, path)
    except BaseException as err:
        Path(temp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise OSError(err.errno, f"cannot write {path}: {err.strerror}") from None
        raise
