"""A tile layer's data version is read by one thread at a time: the others asking meanwhile
wait for its answer instead of counting the same tables again."""

from __future__ import annotations

import threading
import time

from webapp.tiles.views import TileCache


def test_one_read_for_many_threads_at_once() -> None:
    cache = TileCache(version_ttl_s=60.0)
    reads: list[int] = []
    start = threading.Barrier(8)

    def read() -> str:
        reads.append(1)
        time.sleep(0.2)
        return "v1"

    answers: list[str] = []

    def ask() -> None:
        start.wait()
        answers.append(cache.version(("households", "town"), read))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["v1"] * 8
    assert len(reads) == 1
    # Another key is read on its own; an expired version is read again.
    assert cache.version(("buildings", "town"), lambda: "b1") == "b1"
    expired = TileCache(version_ttl_s=0.0)
    assert expired.version(("k",), lambda: "a") == "a"
    assert expired.version(("k",), lambda: "b") == "b"
