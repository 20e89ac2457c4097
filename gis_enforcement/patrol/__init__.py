"""Patrol intake: parse, validate, convert datum, locate, match the lists, find likely duplicates, persist."""
