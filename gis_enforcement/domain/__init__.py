"""Pure domain: records, enums, datum conversion. No I/O, no database."""
