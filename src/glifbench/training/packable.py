"""Which training jobs can train as one pack (``glifbench.training.pack``); torch-free, so the
workflow can ask it while it plans the DAG.

A pack runs K models through one ``torch.func.vmap``: everything in the forward pass needs a
batching rule. PyTorch has none for ``nn.GRU`` (the CNN-RNN's readout), and Norse's surrogate
``autograd.Function``s have no vmap rule; glifbench's own ``sigmoid`` surrogate (eq. 5) and the
sign STE (eqs. 1-2) have one (``generate_vmap_rule``, tested against this list). One more
condition depends on the data, not the job: SOT batches are cut within shuffled shards, so seeds stack only when every training
shard holds as many trials (the workflow's ``PACK_TASKS``; the pack checks it again).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNPACKABLE_ARCHS = {"CNN-RNN": "its GRU (torch.nn.GRU) has no vmap batching rule"}
PACKABLE_SURROGATES = ("sigmoid",)


def pack_problem(arch: str, unit_options: Mapping[str, Any]) -> str | None:
    """Why jobs of ``arch`` with these ``units`` settings cannot train as a pack (``None``: they can)."""
    if arch in UNPACKABLE_ARCHS:
        return f"architecture {arch}: {UNPACKABLE_ARCHS[arch]}"
    surrogate = unit_options.get("surrogate", "sigmoid")
    if surrogate not in PACKABLE_SURROGATES:
        return (f"surrogate {surrogate!r}: Norse's autograd.Function has no vmap rule "
                f"(packable: {', '.join(PACKABLE_SURROGATES)})")  # fmt: skip
    return None
