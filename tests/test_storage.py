from __future__ import annotations

import errno
import os

import pytest

from ser_utils.errors import AudioError, OutputError
from ser_utils.storage import (
    atomic_path,
    check_free_space,
    content_fingerprint,
    file_identity,
    named_os_error,
)


def test_the_identity_changes_with_the_content_at_the_same_size_and_time(tmp_path):
    path = tmp_path / "a.wav"
    path.write_bytes(b"RIFF0000")
    before = path.stat()
    first = file_identity(path)
    path.write_bytes(b"RIFF1111")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # touch -r
    second = file_identity(path)
    assert (first["size"], first["mtime_ns"]) == (second["size"], second["mtime_ns"])
    assert first["blake2b"] != second["blake2b"] == content_fingerprint(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.wav", r"missing.wav: audio file not found"),
        (lambda tmp: tmp, r"cannot read the file \(Is a directory\)"),
    ],
    ids=["missing", "a_folder"],
)
def test_an_identity_that_cannot_be_read_is_one_line(tmp_path, make, message):
    with pytest.raises(AudioError, match=message):
        file_identity(make(tmp_path))


def test_free_space_is_checked_against_the_nearest_existing_folder(tmp_path):
    check_free_space(tmp_path / "not" / "yet", 1, "one byte")
    with pytest.raises(OutputError, match=r"not enough free space for everything \(.* needed"):
        check_free_space(tmp_path / "not" / "yet", 1 << 62, "everything")


def test_an_os_error_without_a_file_name_gets_the_file_being_written(tmp_path):
    named = named_os_error(OSError(errno.ENOSPC, "No space left on device"), tmp_path / "x")
    assert (named.errno, named.filename) == (errno.ENOSPC, str(tmp_path / "x"))
    target = tmp_path / "out.json"
    with pytest.raises(OSError) as raised, atomic_path(target):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert raised.value.filename == str(target) and not target.exists()
