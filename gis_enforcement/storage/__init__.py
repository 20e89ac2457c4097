"""Storage: the only package that knows SQL, SQLAlchemy, GeoAlchemy2 and psycopg2.

Repositories take keyword-only arguments, return domain records or (Geo)DataFrames, and never commit —
the caller owns the transaction.
"""

from sqlalchemy.orm import Session

__all__ = ["Session"]
