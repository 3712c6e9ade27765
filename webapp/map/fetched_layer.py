"""A Folium layer whose GeoJSON the browser fetches from the app's layer API.

Folium's own GeoJson either embeds the data in the page or, with `embed=False`, downloads it
once on the server and then again in the browser with a synchronous jQuery request. This one
only names the URL; static/map/town-map.js fetches, styles and labels the features.
"""

from __future__ import annotations

from collections.abc import Mapping

from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template


class FetchedGeoJson(Layer):
    """An overlay in the layer control, filled from `config["url"]` once the page has loaded."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = wanggeTownMap.fetchedLayer(
                {{ this._parent.get_name() }},
                {{ this.config|tojson }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, config: Mapping[str, object], *, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "FetchedGeoJson"
        self.config = dict(config)


class VectorTiles(Layer):
    """An overlay of Mapbox vector tiles from this app (Leaflet.VectorGrid)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = wanggeTownMap.vectorTiles(
                {{ this._parent.get_name() }},
                {{ this.config|tojson }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, config: Mapping[str, object], *, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "VectorTiles"
        self.config = dict(config)


class CommanderControls(MacroElement):
    """Search, as-of date, colour-by switch, full screen, language and the optional basemap."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            wanggeTownMap.commanderControls(
                {{ this._parent.get_name() }},
                {{ this.config|tojson }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, config: Mapping[str, object]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CommanderControls"
        self.config = dict(config)
