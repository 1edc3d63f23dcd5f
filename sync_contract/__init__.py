"""The contract between a counter station and the provincial gateway: everything both
sides must agree on, and nothing else. `wire` holds the HTTP paths, headers, JSON bodies
and error codes (v1.1); `bundle_codec` the sealed USB bundle format.

Imports nothing of the project: `desktop_app.sync` and `provincial_gateway` both import
it, so neither side can drift from it and the gateway needs none of the station's code."""
