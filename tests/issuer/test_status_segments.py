"""``tsunagu.status_list.compress_segmented``: what the issuer publishes is an ordinary ZLIB status list.

The issuer compresses its lists in independent segments so that a change recompresses one
segment; every reader must see exactly the list a one-piece compression would give.
"""

from __future__ import annotations

import random
import zlib

import pytest

from tsunagu.status_list import (
    INVALID,
    SUSPENDED,
    StatusList,
    compress_segmented,
    decode_status_list,
    encode_status_list,
    segmented_status_list_object,
)


def sample_list(size: int, changes: int, seed: int) -> StatusList:
    rng = random.Random(seed)
    status_list = StatusList.new(size, 2)
    for idx in rng.sample(range(size), changes):
        status_list.set(idx, rng.choice((INVALID, SUSPENDED)))
    return status_list


@pytest.mark.parametrize(
    ("size", "changes", "segment_bytes"),
    [
        (1, 0, 8192),
        (5, 1, 1),  # a segment per byte, the last one partial
        (131_072, 0, 8192),
        (131_072, 1_000, 8192),
        (131_075, 13, 4096),  # the list does not end on a segment boundary
        (1_048_576, 10_000, 8192),
    ],
)
def test_segmented_list_reads_back_as_the_list(size: int, changes: int, segment_bytes: int) -> None:
    status_list = sample_list(size, changes, seed=size + changes)
    segmented = compress_segmented(status_list.to_bytes(), segment_bytes=segment_bytes)
    obj = segmented_status_list_object(segmented, 2)
    assert zlib.decompress(segmented.to_zlib()) == status_list.to_bytes()
    decoded = decode_status_list(obj, max_bytes=1 << 20)
    assert decoded.to_bytes() == status_list.to_bytes()
    assert decoded.non_valid() == status_list.non_valid()
    # The price of segments is small: within 10 % of one-piece compression, plus about 30 bytes per segment.
    one_piece = len(encode_status_list(status_list)["lst"])
    assert len(obj["lst"]) <= one_piece * 1.1 + 45 * len(segmented.segments)


def test_a_change_recompresses_only_its_segment() -> None:
    status_list = sample_list(1_048_576, 10_000, seed=1)
    before = compress_segmented(status_list.to_bytes())
    status_list.set(500_000, INVALID if status_list.get(500_000) != INVALID else SUSPENDED)
    after = compress_segmented(status_list.to_bytes(), previous=before)
    changed = [n for n, (a, b) in enumerate(zip(before.segments, after.segments, strict=True)) if a is not b]
    assert changed == [500_000 // 4 // 8192]
    assert decode_status_list(segmented_status_list_object(after, 2), max_bytes=1 << 20) == status_list


def test_previous_of_another_segment_size_is_not_reused() -> None:
    data = sample_list(100_000, 50, seed=2).to_bytes()
    other = compress_segmented(data, segment_bytes=1000)
    again = compress_segmented(data, segment_bytes=4096, previous=other)
    assert zlib.decompress(again.to_zlib()) == data
    assert again == compress_segmented(data, segment_bytes=4096)


def test_previous_of_another_length_is_reused_only_where_it_matches() -> None:
    short = sample_list(40_000, 30, seed=3).to_bytes()
    longer = short + bytes(2_000) + b"\x01"
    grown = compress_segmented(longer, segment_bytes=4096, previous=compress_segmented(short, segment_bytes=4096))
    assert zlib.decompress(grown.to_zlib()) == longer
