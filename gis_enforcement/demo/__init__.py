"""Demo data: a simulated, seeded patrol season for Pinggu."""

from gis_enforcement.demo.season import season_feature_collection, simulate_incident_table, simulate_season

__all__ = ["season_feature_collection", "simulate_incident_table", "simulate_season"]
