"""The schema comes from the migrations; the Core table definitions must match it column for column."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from gis_enforcement.storage.tables import metadata


def test_tables_match_migrations(engine: Engine) -> None:
    insp = inspect(engine)
    for table in metadata.sorted_tables:
        db_cols = {c["name"] for c in insp.get_columns(table.name)}
        assert db_cols == {c.name for c in table.columns}, table.name


def test_geometries_are_4326_with_gist(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT f_table_name, srid FROM geometry_columns")).all()
        assert rows and all(srid == 4326 for _, srid in rows)
        gist = {r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")).all()}
    assert {name for name, _ in rows} <= gist | {"district"}
