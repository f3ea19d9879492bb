"""Honest memory: the runner's own buffers are not the model's memory, and both sides of a pair are
accounted alike."""

from __future__ import annotations

import numpy as np

from device_runner.timing import Samples, bounded_loop, capacity_for


def test_samples_keep_every_run_in_order_across_chunks_and_know_their_size() -> None:
    samples = Samples(capacity=3)
    for _ in range(3):  # 3 + 3 + 6: a full buffer gets a chunk as big as all before it, nothing is copied
        bounded_loop(lambda: None, min_runs=4, min_s=0.0, max_s=60, into=samples)
    assert len(samples) == 12 and samples.nbytes == 12 * 8
    values = samples.array()
    assert values.dtype == np.int64 and len(values) == 12 and (values > 0).all()


def test_the_sample_buffer_is_sized_from_the_warm_up_speed_within_max_secs() -> None:
    assert capacity_for(per_run_ns=1e6, min_runs=50, min_s=1.0, max_s=150.0) == 2 * 1000 + 64  # 1 ms a run
    assert capacity_for(per_run_ns=1e6, min_runs=5000, min_s=1.0, max_s=150.0) == 2 * 5000 + 64
    assert capacity_for(per_run_ns=1e6, min_runs=50, min_s=100.0, max_s=1.0) == 1000 + 64  # max_s caps it


def test_a_blocks_samples_are_read_without_copying_the_whole_run() -> None:
    samples = Samples(3)  # small chunks: the blocks below cross several of them
    ends = []
    for _ in range(4):
        bounded_loop(lambda: None, 5, 0.0, 1.0, into=samples)
        ends.append(len(samples))
    whole = samples.array()
    for start in (0, 2, 3, 5, *ends):
        assert list(samples.since(start)) == list(whole[start:])
