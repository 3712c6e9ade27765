"""Exports of the town's layers to files any GIS reads, de-identified by default.

`layers` says what each layer holds and what is personal in it; `privacy` the levels and
their pseudonym key; `queries` turns a request into SQL; `geojson`, `tabular` and `delimited`
write the rows as they stream from a server-side cursor; `run` ties them together and audits.
"""
