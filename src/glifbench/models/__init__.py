"""Layers and networks of the paper (Tables I and III) and weight extraction."""

from glifbench.models.networks import ARCHITECTURES, READOUTS, TASKS, Network, build_network
from glifbench.models.weights import LayerWeights, autapses, extract_weights

__all__ = [
    "ARCHITECTURES", "LayerWeights", "Network", "READOUTS", "TASKS", "autapses", "build_network",
    "extract_weights",
]  # fmt: skip
