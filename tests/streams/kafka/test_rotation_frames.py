"""The bytes of topic rotation: the offset-advancing control batch, the gate's produce parsing."""

from __future__ import annotations

import struct

import pytest
from aiokafka.protocol.produce import ProduceRequest_v3, ProduceRequest_v7
from aiokafka.record.default_records import DefaultRecordBatch

from streams.kafka.gate import produce_needs_answer
from streams.kafka.rotation import drained, offset_advance_batch


def test_offset_advance_batch_is_a_valid_control_batch_spanning_count_offsets() -> None:
    """A reader parses the batch (CRC ok), sees a control batch and moves on by ``count``."""
    batch = DefaultRecordBatch(offset_advance_batch(5000, timestamp_ms=1))
    assert batch.validate_crc()
    assert batch.is_control_batch
    assert batch.base_offset == 0
    assert batch.next_offset == 5000


def test_offset_advance_batch_needs_a_positive_count() -> None:
    """Advancing by zero offsets is refused (an empty partition needs no batch)."""
    with pytest.raises(ValueError):
        offset_advance_batch(0)


def _request(struct_class: type, acks: int, txn: str | None = None) -> bytes:
    """A whole request frame body (header v1 + payload) as a client sends it."""
    payload = struct_class(txn, acks, 1000, [("t", [(0, b"")])]).encode()
    client = b"cli"
    header = struct.pack(">hhih", 0, struct_class.API_VERSION, 42, len(client)) + client
    return header + payload


@pytest.mark.parametrize("version", [ProduceRequest_v3, ProduceRequest_v7])
def test_gate_waits_for_answers_to_produce_requests_with_acks(version: type) -> None:
    """acks=1 and acks=-1 expect an answer, acks=0 does not; a transactional id is skipped."""
    assert produce_needs_answer(_request(version, 1))
    assert produce_needs_answer(_request(version, -1, txn="tx-1"))
    assert not produce_needs_answer(_request(version, 0))
    assert not produce_needs_answer(_request(version, 0, txn="tx-1"))


def test_other_requests_are_not_awaited() -> None:
    """A Fetch (api key 1) frame is not a pending produce."""
    fetch = struct.pack(">hhih", 1, 4, 7, 0) + b"\x00" * 16
    assert not produce_needs_answer(fetch)


def test_drained_uses_the_floor_where_the_group_lost_its_commit() -> None:
    """Without a commit (dropped by the last rotation) the floor counts as read."""
    assert drained({0: 10, 1: 7}, {0: 10, 1: 7}, {})
    assert not drained({0: 10, 1: 7}, {0: 10, 1: 6}, {})
    assert drained({0: 10, 1: 7}, {0: -1, 1: 7}, {0: 10})
    assert not drained({0: 11, 1: 7}, {0: -1, 1: 7}, {0: 10})
    assert not drained({0: 3}, {0: -1}, {})
