"""The lines a patrol walks: a stretch of a tour, and the shortest paths to and from the station."""

from __future__ import annotations

import itertools

import numpy as np
import shapely
from numpy.typing import NDArray

from geodata.analysis.patrols.postman import Step
from geodata.analysis.patrols.walkable import Walkable

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def _step_xy(net: Walkable, step: Step) -> Floats:
    xy = net.streets.node_xy
    if step.segment < 0:
        return np.array([xy[step.a], xy[step.b]])
    coords = shapely.get_coordinates(net.streets.segments[step.segment])
    if int(net.streets.u[step.segment]) != step.a:
        coords = coords[::-1]
    return np.asarray(coords, dtype=float)


def path_steps(net: Walkable, pred: Ints, target: int) -> list[Step]:
    """Steps from the predecessor tree's root to `target`."""
    edges = net.edge_segment()
    nodes = [int(target)]
    while int(pred[nodes[-1]]) >= 0:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    out = []
    for a, b in itertools.pairwise(nodes):
        seg, w = edges[(a, b)]
        out.append(Step(a, b, seg, w, False))
    return out


def steps_xy(net: Walkable, steps: list[Step]) -> Floats:
    """The coordinates (metres) of these steps walked in order, joints not repeated."""
    parts = [_step_xy(net, s) for s in steps]
    if not parts:
        return np.empty((0, 2))
    out = [parts[0]] + [p[1:] for p in parts[1:]]
    return np.concatenate(out)


def loop_steps(
    net: Walkable, steps: tuple[Step, ...], first: int, end: int, pred: Ints
) -> list[Step]:
    """A loop: the station to the stretch's first node, the stretch, and back."""
    out = path_steps(net, pred, steps[first].a)
    out += list(steps[first:end])
    back = path_steps(net, pred, steps[end - 1].b)
    out += [Step(s.b, s.a, s.segment, s.metres, False) for s in reversed(back)]
    return out
