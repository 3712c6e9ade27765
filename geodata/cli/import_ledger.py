"""`wangge import ledger-entries|disinfection-places|disinfection-rounds FILE`: CSV files of
records without geometry, all or nothing."""

from __future__ import annotations

from geodata.cli.import_records import record_import_command
from geodata.imports.disinfection_layers import PLACE_FIELDS, PLACES, ROUND_FIELDS, ROUNDS
from geodata.imports.ledger_entries import FIELD_HELP, FIELDS

ledger_import_cmd = record_import_command(
    "ledger-entries",
    "supplies ledger entries, posted in the order of `at`; an entry posted before must come"
    " back unchanged",
    {name: FIELD_HELP[name] for name in FIELDS},
    "geodata.imports.ledger_entries:import_ledger",
)
places_import_cmd = record_import_command(
    PLACES,
    "places to disinfect (upserted by source id)",
    PLACE_FIELDS,
    "geodata.imports.disinfection_layers:import_disinfection",
    layer=PLACES,
)
rounds_import_cmd = record_import_command(
    ROUNDS,
    "disinfection rounds (a log: never changed, never in the future)",
    ROUND_FIELDS,
    "geodata.imports.disinfection_layers:import_disinfection",
    layer=ROUNDS,
)
