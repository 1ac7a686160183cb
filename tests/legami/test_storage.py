"""File storage (local folder): keys, streams, atomic and write-once writes."""

import io
import threading

import pytest

from legami.storage import AlreadyStored, InvalidKey, LocalStorage, NotStored, storage


@pytest.fixture
def store(tmp_path):
    return LocalStorage(tmp_path / "store")


def test_a_stream_is_stored_and_read_back(store):
    body = b"x" * (3 * 1024 * 1024 + 17)  # more than one chunk
    assert store.save("exports/2026/ledger.csv", io.BytesIO(body)) == len(body)
    assert store.exists("exports/2026/ledger.csv")
    with store.open("exports/2026/ledger.csv") as stream:
        assert stream.read() == body
    store.save("exports/2026/ledger.csv", io.BytesIO(b"new"))  # ordinary keys are replaced
    with store.open("exports/2026/ledger.csv") as stream:
        assert stream.read() == b"new"
    store.delete("exports/2026/ledger.csv")
    store.delete("exports/2026/ledger.csv")  # already gone: fine
    assert not store.exists("exports/2026/ledger.csv")
    with pytest.raises(NotStored):
        store.open("exports/2026/ledger.csv")


def test_write_once_keys_are_never_replaced(store):
    store.save("receipts/1/2026-1.pdf", io.BytesIO(b"%PDF-first"), write_once=True)
    with pytest.raises(AlreadyStored):
        store.save("receipts/1/2026-1.pdf", io.BytesIO(b"%PDF-second"), write_once=True)
    with store.open("receipts/1/2026-1.pdf") as stream:
        assert stream.read() == b"%PDF-first"
    # No partial files are left behind.
    assert [p.name for p in (store.root / "receipts" / "1").iterdir()] == ["2026-1.pdf"]


def test_of_many_concurrent_write_once_saves_exactly_one_wins(store):
    outcomes = []

    def save(n: int) -> None:
        try:
            store.save("receipts/x.pdf", io.BytesIO(b"%d" % n * 1000), write_once=True)
            outcomes.append("stored")
        except AlreadyStored:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused"] * 7 + ["stored"]
    with store.open("receipts/x.pdf") as stream:
        body = stream.read()
    assert len(set(body)) == 1 and len(body) == 1000  # one writer's bytes, whole


@pytest.mark.parametrize(
    "key",
    ["", "/etc/passwd", "../outside", "a/../../b", "a//b", "a/./b", "a\\b", "dir/", "a\x00b"],
)
def test_keys_outside_the_store_are_refused(store, key):
    with pytest.raises(InvalidKey):
        store.save(key, io.BytesIO(b"x"))
    with pytest.raises(InvalidKey):
        store.open(key)
    assert not any((store.root.parent).glob("outside*"))


def test_the_app_store_is_the_instance_folder_unless_configured(app, app_with, tmp_path):
    assert storage().root == LocalStorage(app.instance_path).root
    configured = app_with(STORAGE_URL=f"file://{tmp_path / 'files'}")
    with configured.app_context():
        assert storage().root == (tmp_path / "files").resolve()
    refused = app_with(STORAGE_URL="s3://bucket/prefix")
    with refused.app_context(), pytest.raises(RuntimeError, match="only a local folder"):
        storage()
