"""What the commanders' map draws a layer and a legend entry with: the declarations of
webapp/map/style.py and webapp/map/command_post_style.py are made of these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MapLayer:
    """How one layer of feature_collections.LAYERS is drawn and labelled."""

    source: str
    symbol: str
    """"area", "line", "circle", "diamond", "entrance" or "site"."""
    z_index: int
    """Of the layer's own pane: areas under lines under points, whatever loads first."""
    style: Mapping[str, object]
    """Leaflet path options."""
    fields: tuple[tuple[str, str], ...] = ()
    """Tooltip rows: (property, label)."""
    colour_by: str | None = None
    colours: Mapping[str, str] = field(default_factory=dict)
    radius_px: int = 0
    show: bool = True
    choropleth: str | None = None
    """"village" or "grid": filled by the coverage API's figures of that level, by code."""
    label_by: str | None = None
    """A property shown as a permanent label (village names on a map without a basemap)."""
    ring_by: str | None = None
    """A property in metres drawn as a ring around the point (checkpoint reach)."""
    palette_by: str | None = None
    """An integer property picking the colour from PATROL_PALETTE."""
    stroke_by_colour: bool = False
    """`colour_by` colours the outline (or the line) too, not only the fill."""
    popup: bool = False
    """A click opens the tooltip's rows in a popup."""
    dash_by: tuple[str, Mapping[str, str]] | None = None
    searchable: bool = False
    min_zoom: float | None = None
    """Below this zoom the layer is not fetched; from it on, only the view's box is."""


@dataclass(frozen=True)
class LegendEntry:
    symbol: str
    label: str
    stroke: str
    fill: str = "none"
    dash: str | None = None
