"""World geometry for the deck's map: world-atlas countries with ISO alpha-2 names.

world-atlas names countries by ISO 3166-1 numeric id ("004"); clicks carry alpha-2 ("AF").
Each geometry gets ``properties.iso2`` here (with the ``iso3166`` package), so the map's
series data is keyed by the same code the reports use. Antarctica ("010") is dropped: it
takes a sixth of the map and gets no traffic. Rings crossing the antimeridian (Fiji, Russia)
are fixed in the browser after ``topojson.feature`` (see deck.js).
"""

from __future__ import annotations

import functools
from typing import Any

import iso3166
import orjson

from .render import STATIC

WORLD_FILE = STATIC / "vendor" / "countries-110m.json"
DROPPED = {"010"}


@functools.cache
def world_topology() -> bytes:
    topo: dict[str, Any] = orjson.loads(WORLD_FILE.read_bytes())
    countries = topo["objects"]["countries"]
    kept = []
    for geometry in countries["geometries"]:
        numeric = geometry.get("id")
        if numeric in DROPPED:
            continue
        country = iso3166.countries_by_numeric.get(numeric) if numeric else None
        props = dict(geometry.get("properties") or {})
        props["iso2"] = country.alpha2 if country is not None else props.get("name", "")
        geometry = {**geometry, "properties": props}
        kept.append(geometry)
    countries["geometries"] = kept
    topo["objects"] = {"countries": countries}
    return orjson.dumps(topo)
