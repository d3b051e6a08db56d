"""Atomic writes: file modes, stale temp files of killed writes, errors that name the target."""

import errno
import fcntl
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from microgrid.support import atomic
from microgrid.support.atomic import check_writable, remove_stale_temp_files, write_bytes_atomically


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def temps(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def umask():
    """Set the umask for one test, restoring the old one after."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path, umask):
    umask(0o022)
    write_bytes_atomically(tmp_path / "a", b"1")
    assert mode(tmp_path / "a") == 0o644
    umask(0o077)
    write_bytes_atomically(tmp_path / "b", b"1")
    assert mode(tmp_path / "b") == 0o600
    umask(0o022)
    shared = tmp_path / "shared"
    shared.write_bytes(b"old")
    shared.chmod(0o660)
    write_bytes_atomically(shared, b"new")
    assert mode(shared) == 0o660 and shared.read_bytes() == b"new"
    shared.chmod(0o444)  # read-only: replaced all the same (the directory is writable), still read-only
    write_bytes_atomically(shared, b"newer")
    assert mode(shared) == 0o444 and shared.read_bytes() == b"newer"


def test_stale_temp_files_of_the_same_target_are_removed_on_the_next_write(tmp_path):
    target = tmp_path / "m.npz"
    for name in (".m.npz.abcd_123.tmp", ".m.npz.zzzz9999.tmp", ".other.npz.abcd1234.tmp", ".m.npz.backup.tmp",
                 "m.npz.abcd1234.tmp", ".m.npz.abcd1234.tmp"):  # fmt: skip
        (tmp_path / name).write_bytes(b"x" * 100)
    live = os.open(tmp_path / ".m.npz.zzzz9999.tmp", os.O_RDONLY)
    fcntl.flock(live, fcntl.LOCK_EX)  # a writer still at work: its file is not stale
    try:
        write_bytes_atomically(target, b"data")
    finally:
        os.close(live)
    assert target.read_bytes() == b"data"
    assert temps(tmp_path) == [".m.npz.backup.tmp", ".m.npz.zzzz9999.tmp", ".other.npz.abcd1234.tmp",
                               "m.npz.abcd1234.tmp"]  # fmt: skip
    assert remove_stale_temp_files(target) == [tmp_path / ".m.npz.zzzz9999.tmp"]  # its writer has gone


def test_a_write_killed_mid_way_leaves_a_temp_file_that_the_next_write_removes(tmp_path):
    target = tmp_path / "m.npz"
    target.write_bytes(b"before")
    child = textwrap.dedent(
        """
        import os, sys, time
        from microgrid.support.atomic import write_bytes_atomically
        def stall(fd):
            print("writing", flush=True)
            time.sleep(60)
        os.fsync = stall
        write_bytes_atomically(sys.argv[1], b"x" * 1_000_000)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "writing\n"
        assert len(temps(tmp_path)) == 1
        assert remove_stale_temp_files(target) == []  # the writer is alive: its temp file stays
    finally:
        proc.kill()  # SIGKILL: no cleanup runs
        proc.wait()
    assert len(temps(tmp_path)) == 1 and target.read_bytes() == b"before"
    write_bytes_atomically(target, b"after")
    assert temps(tmp_path) == [] and target.read_bytes() == b"after"


def test_errors_name_the_target_not_the_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "m.npz"
    target.write_bytes(b"before")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError, match=r"cannot write .*m.npz: No space left on device") as err:
        write_bytes_atomically(target, b"after")
    assert ".tmp" not in str(err.value) and err.value.errno == errno.ENOSPC
    assert temps(tmp_path) == [] and target.read_bytes() == b"before"
    with pytest.raises(OSError, match=r"cannot write .*nope/m.npz: No such file or directory"):
        write_bytes_atomically(tmp_path / "nope" / "m.npz", b"x")


def test_check_writable(tmp_path):
    assert check_writable(str(tmp_path / "m.npz")) == tmp_path / "m.npz"
    assert temps(tmp_path) == []  # the probe file is gone
    os.mkfifo(tmp_path / "fifo")
    for raw, message in [
        ("", "'' is empty"),
        (f"{tmp_path}/new/", "ends with a slash"),
        (str(tmp_path), "is a directory: expected a file name, such as"),
        (str(tmp_path / "fifo"), "exists and is not a regular file"),
        (str(tmp_path / "no" / "m.npz"), f"directory {tmp_path / 'no'} does not exist"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_writable(raw)
