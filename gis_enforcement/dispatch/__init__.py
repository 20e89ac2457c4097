"""Dispatch: the whistle (three modes), report-in on site, enforcement records, resolution, verification,
and the case's tamper-evident record. Services take a session and never commit."""
