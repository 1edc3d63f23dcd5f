"""Which queued dossiers travel together in one `POST /dossiers/batch` (contract 1.1).

On the commune link (256 kbit/s, 300 ms round trip) one PUT per dossier spends most of
its time waiting for round trips: a dossier document is ~2 KB, 60 ms of sending, against
300 ms of round trip and the gateway's answer. A batch pays the round trip once for up to
`BATCH_MAX_ITEMS` documents. Its size is also what a connection cut mid-request costs to
send again, so it stays small: `BATCH_MAX_BYTES` is about two seconds of that link, less
than one tus chunk of a file (128 KiB). Both are capped by what the gateway announces in
`/health`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sync_contract import wire

BATCH_MAX_ITEMS = 50
BATCH_MAX_BYTES = 64 * 1024
# '{"dossiers":[' … ']}' around the documents and a comma between two.
ENVELOPE_BYTES = len(b'{"dossiers":[]}')


@dataclass(frozen=True)
class BatchLimits:
    items: int  # documents per batch
    nbytes: int  # request body bytes a batch aims to stay under
    gateway_nbytes: int  # the gateway's cap: a larger document goes by a PUT of its own

    @classmethod
    def announced(cls, health: wire.Health, items: int = BATCH_MAX_ITEMS,
                  nbytes: int = BATCH_MAX_BYTES) -> BatchLimits | None:
        """The limits to batch with, or None for a gateway that takes no batches (contract
        1.0, limits not announced) or when this station is told not to batch."""
        if (health.api_minor < wire.DOSSIER_BATCH_MINOR or items < 2
                or health.dossier_batch_max_items < 1 or health.dossier_batch_max_bytes < 1):
            return None
        return cls(min(items, health.dossier_batch_max_items),
                   min(nbytes, health.dossier_batch_max_bytes), health.dossier_batch_max_bytes)

    def fits_alone(self, size: int) -> bool:
        return size + ENVELOPE_BYTES <= self.gateway_nbytes


def plan(sizes: Sequence[int], limits: BatchLimits) -> list[list[int]]:
    """Indices of `sizes` (encoded documents, in queue order) grouped into consecutive
    batches of at most `limits.items` documents and `limits.nbytes` of body; a document
    larger than that alone is a batch of one."""
    batches: list[list[int]] = []
    current: list[int] = []
    used = ENVELOPE_BYTES
    for i, size in enumerate(sizes):
        cost = size + (1 if current else 0)
        if current and (len(current) >= limits.items or used + cost > limits.nbytes):
            batches.append(current)
            current, used, cost = [], ENVELOPE_BYTES, size
        current.append(i)
        used += cost
    if current:
        batches.append(current)
    return batches
