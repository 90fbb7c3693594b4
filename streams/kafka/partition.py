"""The partition Kafka's default partitioner gives a key (murmur2, as aiokafka and Java do)."""

from __future__ import annotations

from aiokafka.partitioner import murmur2

__all__ = ["partition_for"]


def partition_for(key: bytes, partitions: int) -> int:
    """The partition of ``key`` among ``partitions`` under the default partitioner."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions
