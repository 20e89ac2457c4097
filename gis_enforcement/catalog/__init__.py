"""The four lists as data: load and validate the catalog, look up responsibility rules."""

from gis_enforcement.catalog.loader import load_catalog, parse_catalog
from gis_enforcement.catalog.rules import match_rules, rule_for, rules_by_code

__all__ = ["load_catalog", "match_rules", "parse_catalog", "rule_for", "rules_by_code"]
