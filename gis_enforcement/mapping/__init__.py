"""Maps: interactive, self-contained (offline) Leaflet pages built with folium."""

from gis_enforcement.mapping.incidents_map import incidents_map, write_incidents_map

__all__ = ["incidents_map", "write_incidents_map"]
