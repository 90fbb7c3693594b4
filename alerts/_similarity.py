"""Near-duplicate detection: MinHash signatures over shingles of clean text, LSH bands.

Pure and deterministic (fixed seed): the same text gives the same signature in every
process, so signatures can live in a changelog-backed table. 64 permutations in 16 bands
of 4 rows: two texts with Jaccard similarity 0.7 share at least one band with probability
≈ 0.98; candidates are then confirmed with the estimated Jaccard similarity.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

__all__ = [
    "BANDS",
    "NUM_PERM",
    "band_keys",
    "jaccard",
    "pack_signature",
    "shingles",
    "signature",
    "unpack_signature",
]

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
_PRIME = np.uint64((1 << 61) - 1)
_MASK = np.uint64(0xFFFFFFFF)
_rng = np.random.RandomState(20240601)
_A = _rng.randint(1, 1 << 31, size=NUM_PERM, dtype=np.int64).astype(np.uint64)
_B = _rng.randint(0, 1 << 31, size=NUM_PERM, dtype=np.int64).astype(np.uint64)
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_TOKENS = 20_000
_MIN_SHINGLES = 3


def shingles(text: str, *, k: int = 3) -> set[str]:
    """Word k-shingles of the casefolded text; character 4-grams for unspaced scripts."""
    tokens = _WORD.findall(text.casefold())[:_MAX_TOKENS]
    spaced = bool(tokens) and sum(map(len, tokens)) <= 16 * len(tokens)
    if spaced:
        return {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}
    compact = "".join(tokens)[: _MAX_TOKENS * 4]  # CJK and other unspaced scripts
    return {compact[i : i + 4] for i in range(max(0, len(compact) - 3))}


def signature(text: str) -> list[int] | None:
    """The MinHash signature of ``text`` (``NUM_PERM`` ints), or None if it is too short."""
    grams = shingles(text)
    if len(grams) < _MIN_SHINGLES:
        return None
    hashes = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=4).digest(), "little")
            for g in grams
        ),
        dtype=np.uint64,
        count=len(grams),
    )
    with np.errstate(over="ignore"):
        perms = ((np.outer(hashes, _A) + _B) % _PRIME) & _MASK
    return [int(v) for v in perms.min(axis=0)]


def band_keys(sig: list[int]) -> list[str]:
    """One short key per LSH band; equal keys make two stories candidates."""
    keys = []
    for band in range(BANDS):
        rows = ",".join(str(v) for v in sig[band * ROWS : (band + 1) * ROWS])
        digest = hashlib.blake2b(rows.encode(), digest_size=6).hexdigest()
        keys.append(f"{band}:{digest}")
    return keys


def jaccard(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of the two shingle sets behind two signatures."""
    if len(a) != len(b) or not a:
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def pack_signature(sig: list[int]) -> str:
    """A signature as one hex string (8 digits per value): how stories keep it in the state.

    A list of 64 Python ints costs ≈ 2.6 KB of memory per story, the string ≈ 0.56 KB.
    """
    return "".join(f"{v:08x}" for v in sig)


def unpack_signature(value: object) -> list[int] | None:
    """The signature a story keeps: a packed string, or a list of ints (state written before
    signatures were packed); None for anything else."""
    if isinstance(value, str):
        try:
            return [int(value[i : i + 8], 16) for i in range(0, len(value), 8)] or None
        except ValueError:
            return None
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return value or None
    return None
