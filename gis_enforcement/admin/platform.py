"""The running platform: settings, database, the four lists and the locator — built once by the app or CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from gis_enforcement.admin.credentials import KeyCache
from gis_enforcement.admin.layers import LocatorCache
from gis_enforcement.catalog.loader import load_catalog
from gis_enforcement.domain.calendar import WorkCalendar
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import NotConfigured
from gis_enforcement.settings import Settings
from gis_enforcement.storage import Session
from gis_enforcement.storage.engine import (
    make_engine,
    make_session_factory,
    resolve_database_url,
    transaction,
)
from gis_enforcement.storage.migrate import upgrade


@dataclass
class Platform:
    """Holds what every command and request needs; nothing is built at import time."""

    settings: Settings
    url: str
    locators: LocatorCache = field(default_factory=LocatorCache)
    keys: KeyCache = field(init=False)  # API keys proved recently, kept ``settings.api_key_cache_s``

    def __post_init__(self) -> None:
        self.keys = KeyCache(self.settings.api_key_cache_s)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Platform:
        """Connect (starting the local cluster when no DATABASE_URL is set) and bring the schema up to date."""
        platform = cls(settings=settings, url=resolve_database_url(settings),
                       locators=LocatorCache(near_border_min_m=settings.near_border_min_m))
        if migrate:
            upgrade(platform.engine)
        return platform

    @cached_property
    def engine(self):  # type: ignore[no-untyped-def]
        s = self.settings
        return make_engine(self.url, pool_size=s.db_pool_size, max_overflow=s.db_max_overflow,
                           pool_timeout_s=s.db_pool_timeout_s)

    @cached_property
    def sessions(self):  # type: ignore[no-untyped-def]
        return make_session_factory(self.engine)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.settings.catalog_path)

    @cached_property
    def calendar(self) -> WorkCalendar:
        """The working-day calendar (public holidays and 调休) for working-day deadlines."""
        return WorkCalendar.from_yaml(self.settings.calendar_path)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed when the block succeeds, rolled back when it raises."""
        with transaction(self.sessions) as session:
            yield session

    def warm_up(self) -> None:
        """Build the locator now (when layers are loaded) so the first patrol submission does not wait for it."""
        try:
            with self.transaction() as session:
                self.locators.get(session)
        except NotConfigured:
            pass

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
