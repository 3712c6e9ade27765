"""Checkpoint placement: maximal and set covering on a sparse coverage matrix, and seal plans."""

from geodata.analysis.placement.covering import Placement, maximal_covering, set_covering
from geodata.analysis.placement.reach_matrix import (
    cost_matrix_coverage,
    network_coverage,
    straight_coverage,
)

__all__ = [
    "Placement",
    "cost_matrix_coverage",
    "maximal_covering",
    "network_coverage",
    "set_covering",
    "straight_coverage",
]
