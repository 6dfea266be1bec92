"""SampleRing / TimedRing: wrap-around, overflow and underflow accounting, SPSC handoff."""

from __future__ import annotations

import threading

import numpy as np

from desktop_app.audio.ringbuffer import SampleRing, TimedRing


def test_wraps_around_and_returns_samples_in_order() -> None:
    ring = SampleRing(10)
    out = np.zeros(7, dtype=np.float32)
    ring.write(np.arange(7, dtype=np.float32))
    assert ring.read_into(out) == 7
    ring.write(np.arange(7, 14, dtype=np.float32))  # crosses the end of the storage
    assert ring.available == 7
    assert ring.read_into(out) == 7
    np.testing.assert_array_equal(out, np.arange(7, 14))
    assert ring.overflows == 0 and ring.underflows == 0


def test_full_ring_drops_newest_and_counts_overflow() -> None:
    ring = SampleRing(8)
    assert ring.write(np.arange(6, dtype=np.float32)) == 6
    assert ring.write(np.arange(6, 11, dtype=np.float32)) == 2
    assert (ring.overflows, ring.dropped) == (1, 3)
    np.testing.assert_array_equal(ring.read()[:, 0], [0, 1, 2, 3, 4, 5, 6, 7])
    assert ring.write(np.zeros(20, dtype=np.float32)) == 8
    assert (ring.overflows, ring.dropped) == (2, 15)


def test_short_read_counts_underflow_and_missing_samples() -> None:
    ring = SampleRing(8)
    ring.write(np.ones(3, dtype=np.float32))
    out = np.full(5, -1.0, dtype=np.float32)
    assert ring.read_into(out) == 3
    np.testing.assert_array_equal(out, [1, 1, 1, -1, -1])
    assert (ring.underflows, ring.missing) == (1, 2)
    assert len(ring.read(4)) == 0  # "whatever is there" is not an underflow
    assert ring.underflows == 1


def test_multichannel_write_and_discard() -> None:
    ring = SampleRing(6, channels=2)
    block = np.arange(8, dtype=np.float32).reshape(4, 2)
    ring.write(block)
    assert ring.discard(1) == 1
    np.testing.assert_array_equal(ring.read(), block[1:])


def test_producer_and_consumer_threads_see_every_sample_once() -> None:
    ring = SampleRing(257)
    total = 100_000
    received: list[np.ndarray] = []
    data_ready = threading.Semaphore(0)
    space_freed = threading.Semaphore(0)

    def produce() -> None:
        sent = 0
        while sent < total:
            n = min(100, total - sent)
            while ring.free < n:
                space_freed.acquire(timeout=1)
            ring.write(np.arange(sent, sent + n, dtype=np.float32))
            sent += n
            data_ready.release()

    thread = threading.Thread(target=produce)
    thread.start()
    got = 0
    while got < total:
        data_ready.acquire(timeout=1)
        chunk = ring.read()
        got += len(chunk)
        received.append(chunk[:, 0])
        space_freed.release()
    thread.join()
    np.testing.assert_array_equal(np.concatenate(received), np.arange(total, dtype=np.float32))
    assert ring.overflows == 0


def test_timed_ring_keeps_latest_samples_and_maps_time_to_index() -> None:
    tap = TimedRing(capacity=100, rate=1000)
    for k in range(5):
        tap.write(np.full(30, k, dtype=np.float32), timestamp=10.0 + 0.03 * k)
    latest, first = tap.read_latest(40)
    assert first == 110 and len(latest) == 40
    np.testing.assert_array_equal(latest[:10], 3)
    np.testing.assert_array_equal(latest[10:], 4)
    assert tap.sample_at(10.065) == 65  # 5 ms into the third block (index 60)
    assert tap.sample_at(9.0) is None
