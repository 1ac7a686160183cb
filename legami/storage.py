"""File storage behind one small interface: files are named by keys ("imports/ab12.csv"),
written from streams and read back as streams, whatever holds them.

`storage()` gives the app's store: a local folder (`LocalStorage`; by default the instance
folder, so keys are the paths files already have there). Guarantees of every store:
- a key is a relative path of non-empty parts without `.` or `..`: nothing is read or
  written outside the store;
- a write is all or nothing: readers never see half a file (a temporary file, then an
  atomic rename);
- `write_once=True` refuses to replace an existing key (`AlreadyStored`), for documents
  that must never change once issued, such as receipt PDFs;
- reading a missing key raises `NotStored`.
S3-compatible object storage is not built yet: a `STORAGE_URL` other than a local folder
is refused at first use rather than ignored.
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app

CHUNK = 1024 * 1024


class InvalidKey(ValueError):
    pass


class NotStored(LookupError):
    pass


class AlreadyStored(FileExistsError):
    pass


def check_key(key: str) -> str:
    """The key if it names a file inside a store, else InvalidKey."""
    parts = key.split("/")
    if "\\" in key or "\x00" in key or any(part in ("", ".", "..") for part in parts):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under one folder of the local disk."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def save(self, key: str, stream: BinaryIO, write_once: bool = False) -> int:
        """Store the stream's bytes (copied in chunks) under `key`; returns their size."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
                size = out.tell()
            if write_once:
                try:
                    os.link(temporary, target)  # fails if the key exists: no overwrite race
                except FileExistsError as exc:
                    raise AlreadyStored(key) from exc
            else:
                os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return size

    def open(self, key: str) -> BinaryIO:
        """The stored bytes as a binary stream (the caller closes it)."""
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise NotStored(key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the key if stored (removing a missing key is not an error)."""
        self._path(key).unlink(missing_ok=True)


def storage() -> LocalStorage:
    """The current app's store, from `STORAGE_URL` (a folder; default the instance folder)."""
    store = current_app.extensions.get("legami.storage")
    if store is None:
        url = current_app.config.get("STORAGE_URL") or ""
        if "://" in url and not url.startswith("file://"):
            raise RuntimeError(f"STORAGE_URL {url!r}: only a local folder is supported")
        folder = url.removeprefix("file://") or current_app.instance_path
        store = current_app.extensions["legami.storage"] = LocalStorage(folder)
    return store
