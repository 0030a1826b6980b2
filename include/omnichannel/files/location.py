"""Where a files channel's files land: a local folder, or object storage (`s3://bucket/prefix`
and any other scheme an Airflow provider registers) read through Airflow's
`ObjectStoragePath` with the channel's Airflow connection (`connection_id`), which holds
the keys and, for an S3-compatible server, its `endpoint_url`.

Both list the files under their root by name relative to it ("store_1/sales_….csv"),
open one for reading as a binary stream, and keep a small unreadable file whole for
quarantine. Nothing is downloaded whole: the reader streams what `open` returns."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

KEEP_BYTES = 5 * 2**20  # an unreadable file up to this size is kept whole in quarantine


class FileUnreadable(ValueError):
    """A file that cannot be read as a whole; the message names file and line."""


def is_remote(landing_path: str) -> bool:
    return "://" in landing_path and not landing_path.startswith("file://")


class LocalFolder:
    """A folder on this machine. A file is read only when it is a regular file under the
    folder, opened without following links: a link could point at any file this process
    may read (a password file, /etc/passwd)."""

    def __init__(self, root: Path):
        self.root = root

    def __str__(self) -> str:
        return str(self.root)

    def exists(self) -> bool:
        return self.root.is_dir()

    def names(self) -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            yield path.relative_to(self.root).as_posix()

    def open(self, name: str):
        path = self.root / name
        where = f"file {name}"
        if path.parent.is_symlink():
            raise FileUnreadable(f"{where}: its folder is a symbolic link; not read")
        try:
            fd = os.open(path, _NO_FOLLOW)
        except OSError as exc:
            raise FileUnreadable(f"{where}: not opened ({exc.strerror}); not read") from exc
        handle = os.fdopen(fd, "rb")
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            handle.close()
            raise FileUnreadable(f"{where}: not a regular file; not read")
        if not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(self.root)):
            handle.close()
            raise FileUnreadable(f"{where}: outside the landing folder; not read")
        return handle

    def keep(self, name: str) -> tuple[bytes | None, int | None]:
        """All of a file up to KEEP_BYTES, read without following links, and its size."""
        try:
            fd = os.open(self.root / name, _NO_FOLLOW)
        except OSError:
            return None, None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > KEEP_BYTES:
                return None, info.st_size
            return handle.read(KEEP_BYTES + 1), info.st_size


_NO_FOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class ObjectStore:
    """Objects under a prefix of a bucket, through Airflow's ObjectStoragePath (the
    provider's filesystem: s3fs for `s3://`). Objects are listed and opened with the
    channel's connection; a listing shows objects, never 'folders'."""

    def __init__(self, url: str, conn_id: str | None):
        from airflow.sdk import ObjectStoragePath

        self.url = url.rstrip("/") + "/"
        self.root = ObjectStoragePath(self.url, conn_id=conn_id)

    def __str__(self) -> str:
        return self.url  # the connection's name and secrets stay out of messages

    def exists(self) -> bool:
        # a prefix is no object: it "exists" when the bucket does
        return self.root.exists() or self.root.fs.exists(self.root.bucket)

    def names(self) -> Iterator[str]:
        base = self.root.key.rstrip("/")
        keys = []
        for path in self.root.rglob("*"):
            if path.is_file():
                keys.append(path.key[len(base) :].lstrip("/") if base else path.key)
        yield from sorted(keys)

    def open(self, name: str):
        try:
            return (self.root / name).open("rb")
        except OSError as exc:
            raise FileUnreadable(f"file {name}: not opened ({exc}); not read") from exc

    def keep(self, name: str) -> tuple[bytes | None, int | None]:
        path = self.root / name
        try:
            size = path.stat().get("size")
            if size is None or size > KEEP_BYTES:
                return None, size
            with path.open("rb") as handle:
                return handle.read(KEEP_BYTES + 1), size
        except OSError:
            return None, None


def location(landing_path: str, conn_id: str | None, base: Path) -> LocalFolder | ObjectStore:
    """The landing place a channel's landing_path names (a relative folder is under `base`)."""
    if is_remote(landing_path):
        return ObjectStore(landing_path, conn_id)
    root = Path(landing_path.removeprefix("file://"))
    return LocalFolder(root if root.is_absolute() else base / root)
