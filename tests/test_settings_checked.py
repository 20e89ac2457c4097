"""Settings are checked when they are read: a bad value is refused at start-up, naming the variable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from gis_enforcement.cli import app
from gis_enforcement.settings import Settings


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Urumqi", "UTC"])
def test_a_zone_the_zone_database_knows_is_taken(zone: str) -> None:
    assert Settings(timezone=zone).timezone == zone


@pytest.mark.parametrize("zone", ["Mars/Base", "", "../etc/passwd"])
def test_an_unknown_zone_is_refused_when_the_settings_are_read(zone: str) -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(timezone=zone)


@pytest.mark.parametrize(("env", "said"), [
    ({"GISE_TIMEZONE": "Mars/Base"}, "GISE_TIMEZONE: unknown time zone 'Mars/Base'"),
    ({"GISE_API_THREADS": "many"}, "GISE_API_THREADS: Input should be a valid integer"),
])
def test_the_cli_names_a_bad_setting_and_exits_2_before_any_work(env: dict[str, str], said: str) -> None:
    result = CliRunner(env=env).invoke(app, ["locate", "117.12", "40.14", "--json"])
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "env", "said"), [
    (["serve", "--port", "99999"], {}, "'--port'"),
    (["serve", "--port", "0"], {}, "'--port'"),
    (["serve"], {"GISE_API_PORT": "70000"}, "GISE_API_PORT"),
])
def test_a_port_that_is_not_one_is_refused_before_serving(args: list[str], env: dict[str, str], said: str) -> None:
    """99999 was announced and then bound as 34463 (99999 mod 65536); 0 quietly became 8000."""
    result = CliRunner(env=env).invoke(app, args)
    assert result.exit_code == 2, result.output
    assert said in result.output
