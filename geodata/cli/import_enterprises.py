"""`wangge import enterprises|passes|publicity-points FILE`: CSV files of the enterprises
screened before they resume work, their staff's passes and the publicity points, all or
nothing."""

from __future__ import annotations

from geodata.cli.import_records import record_import_command
from geodata.imports.enterprise_layers import ENTERPRISES, FIELDS, PASSES, PUBLICITY

ABOUT = {
    ENTERPRISES: "enterprises (points or polygons, upserted by source id)",
    PASSES: "passes for returning staff (upserted by number; refused before the enterprise's"
    " approval or for a resident in active quarantine)",
    PUBLICITY: "publicity points (banners, signs, notice boards; loudspeaker routes as lines)",
}


COMMANDS = tuple(
    record_import_command(
        layer, ABOUT[layer], FIELDS[layer], "geodata.imports.enterprise_layers:import_layer",
        layer=layer,
    )
    for layer in (ENTERPRISES, PASSES, PUBLICITY)
)  # fmt: skip
