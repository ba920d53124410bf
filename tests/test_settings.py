"""Where the settings come from: the per-user file, the workbook's (or working) folder, the
environment, in that order of strength."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xlplan.errors import ConfigError
from xlplan.settings import load_settings, user_file


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    # platformdirs puts the per-user folder under XDG_CONFIG_HOME on Linux (APPDATA on
    # Windows): a real lookup, pointed at a temporary home
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    for name in ("XLPLAN_INSTALLNINGAR", "XLPLAN_INTERNRANTA", "XLPLAN_SMTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    user = user_file()
    assert user == tmp_path / "home" / "xlplan" / "xlplan.toml"
    user.parent.mkdir(parents=True)
    folder = tmp_path / "planbocker"
    folder.mkdir()
    return user, folder


def test_user_file_then_folder_then_environment(places: tuple[Path, Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    user, folder = places
    user.write_text('internranta = "0.01"\nsmtp_port = 2525\n', encoding="utf-8")
    assert load_settings(folder).internranta == Decimal("0.01")
    (folder / "xlplan.toml").write_text('internranta = "0.02"\n', encoding="utf-8")
    settings = load_settings(folder)
    assert settings.internranta == Decimal("0.02")  # the folder's file wins ...
    assert settings.smtp_port == 2525  # ... key by key: the rest still comes from the user's
    monkeypatch.setenv("XLPLAN_INTERNRANTA", "0.03")
    assert load_settings(folder).internranta == Decimal("0.03")  # the environment wins


def test_command_line_reads_the_working_folder(places: tuple[Path, Path]) -> None:
    user, _ = places
    user.write_text('internranta = "0.01"\n', encoding="utf-8")
    Path("xlplan.toml").write_text('internranta = "0.04"\n', encoding="utf-8")
    assert load_settings().internranta == Decimal("0.04")


def test_named_file_replaces_both(places: tuple[Path, Path], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    user, folder = places
    user.write_text("smtp_port = 2525\n", encoding="utf-8")
    (folder / "xlplan.toml").write_text('internranta = "0.02"\n', encoding="utf-8")
    named = tmp_path / "annan.toml"
    named.write_text('internranta = "0.05"\n', encoding="utf-8")
    monkeypatch.setenv("XLPLAN_INSTALLNINGAR", str(named))
    settings = load_settings(folder)
    assert (settings.internranta, settings.smtp_port) == (Decimal("0.05"), 587)


def test_a_broken_user_file_is_named(places: tuple[Path, Path]) -> None:
    user, folder = places
    user.write_text("internranta = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(folder)
    assert str(user) in err.value.message and "kan inte läsas" in err.value.message
