"""One settings object, read once at the edge. Later sources win:

1. defaults;
2. the per-user file ``xlplan.toml`` in the user's settings folder (platformdirs: on Windows
   ``%APPDATA%\\xlplan\\xlplan.toml``, on a Mac ``~/Library/Application Support/xlplan/``);
3. ``xlplan.toml`` in the folder: the workbook's folder for a button, the working folder for
   the command line;
4. ``XLPLAN_*`` environment variables.

``XLPLAN_INSTALLNINGAR`` names one file that is read instead of 2 and 3.
"""

from __future__ import annotations

import os
import re
import tomllib
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from xlplan.errors import ConfigError

SETTINGS_FILE_ENV = "XLPLAN_INSTALLNINGAR"
FILE_NAME = "xlplan.toml"
_FILES: ContextVar[tuple[Path, ...]] = ContextVar("xlplan_settings_files", default=())


def user_file() -> Path:
    """The per-user settings file (it need not exist)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("xlplan", appauthor=False, roaming=True)) / FILE_NAME


def settings_files(folder: Path | None = None) -> tuple[Path, ...]:
    """The files read, weakest first."""
    named = os.environ.get(SETTINGS_FILE_ENV)
    if named:
        return (Path(named),)
    return user_file(), (folder / FILE_NAME if folder is not None else Path(FILE_NAME))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XLPLAN_", extra="forbid")

    # --- computations (issue: Sammanfattning) ---------------------------------------
    internranta: Decimal = Field(
        Decimal("0.015"), description="Internränta som andel (0.015 = 1,5 %); sätt enligt SKR:s "
        "rekommendation för året.")
    avskrivning_start: Literal["samma_ar", "nasta_ar"] = Field(
        "samma_ar", description="Avskrivning och internränta börjar investeringsåret "
        "(samma_ar) eller året efter (nasta_ar).")
    mal_bruttokostnadsutveckling: Decimal = Field(
        Decimal("-0.005"), description="Regionens mål för bruttokostnadsutveckling (högst).")
    mal_nettokostnadsutveckling: Decimal = Field(
        Decimal("0.006"), description="Regionens mål för nettokostnadsutveckling (högst).")

    # --- consolidation --------------------------------------------------------------------
    region: str = Field("", description="Regionens namn i sammanställningens rubrik.")
    databas: str = Field("sqlite:///xlplan-historik.db",
                         description="SQLAlchemy-URL till historiken (SQLite eller PostgreSQL).")
    forvantade_namnder: list[str] = Field(
        default_factory=list, description="Nämnder som ska finnas i inkorgen, t.ex. [\"RS\", \"HSN\"].")

    # --- e-mail ------------------------------------------------------------------------------
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout: float = 30.0
    smtp_forsok: int = Field(3, ge=1, le=10, description="Försök vid tillfälliga fel (4xx).")
    smtp_vantetid: float = Field(2.0, ge=0, description="Sekunder före första omförsöket; "
                                 "fördubblas för varje nytt försök.")
    smtp_cafil: Path | None = Field(None, description="CA-certifikat att lita på (PEM), utöver "
                                    "systemets.")
    avsandare: str = ""
    mottagare: str = Field("", description="Kommaseparerade adresser till ekonomidirektören.")
    loggmapp: Path = Field(Path("xlplan-logg"), description="Mapp för sändloggen (JSON-rader).")
    smtp_oauth2_kommando: str = Field(
        "", description="Kommando som skriver en OAuth2-åtkomsttoken på stdout (inloggning med "
        "XOAUTH2, t.ex. mot Microsoft 365) i stället för lösenord.")

    # --- the server (xlplan serve) -----------------------------------------------------------
    server_tokens: dict[str, str] = Field(
        default_factory=dict, description="Behörighetsnycklar: token -> nämndens kod, eller \"*\" "
        "för ekonomidirektören (får allt, ensam om Konsolidera).")
    server_inkorg: Path = Field(Path("inkorg"), description="Serverns inkorg: Skicka lägger "
                                "planböckerna här, Konsolidera läser härifrån.")
    server_utfil: Path = Field(Path("Regionsammanstallning.xlsx"),
                               description="Konsolidera via servern skriver hit.")
    server_url: str = Field("", description="Serverns publika adress (https://…) i tilläggets "
                            "manifest; annars adressen anropet kom till.")
    server_max_mb: float = Field(20.0, gt=0, description="Största tillåtna anrop i MB.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = _FILES.get() or settings_files()
        toml = TomlConfigSettingsSource(settings_cls, toml_file=list(files))
        return init_settings, env_settings, toml

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in self.mottagare.split(",") if a.strip()]


_REASONS = {
    "decimal_parsing": "ska vara ett tal, t.ex. 0.015",
    "decimal_type": "ska vara ett tal, t.ex. 0.015",
    "int_parsing": "ska vara ett heltal",
    "float_parsing": "ska vara ett tal",
    "bool_parsing": "ska vara 1 eller 0",
    "literal_error": "ska vara {expected}",
    "list_type": "ska vara en lista, t.ex. [\"RS\", \"HSN\"]",
    "extra_forbidden": "okänd inställning",
    "greater_than_equal": "är för litet",
    "less_than_equal": "är för stort",
    "greater_than": "är för litet",
    "dict_type": "ska vara en tabell, t.ex. {\"token\" = \"HSN\"}",
}


_SOURCE = re.compile(r'field "(\w+)" from source "(\w+)"')


def _unreadable(exc: Exception) -> str:
    """pydantic-settings' English "error parsing value …" as a Swedish sentence that names
    the environment variable (not a file) when that is where the value came from."""
    m = _SOURCE.search(str(exc))
    if m and m.group(2).startswith("Env"):
        name = f"XLPLAN_{m.group(1).upper()}"
        example = ("""'{"lång-slumpad-nyckel": "HSN"}'""" if m.group(1) == "server_tokens"
                   else """'["HSN", "RS"]'""")
        return (f"Miljövariabeln {name} går inte att tolka; skriv värdet som JSON, t.ex. "
                f"{name}={example}.")
    if m:
        return f"Inställningen {m.group(1)} i inställningsfilen går inte att tolka."
    return f"Inställningsfilen kan inte läsas: {exc}."


def load_settings(folder: Path | None = None, **overrides: object) -> Settings:
    """Read the settings (``folder``: where a workbook's own xlplan.toml may lie); a bad file
    or variable becomes a Swedish ConfigError."""
    files = settings_files(folder)
    if os.environ.get(SETTINGS_FILE_ENV) and not files[0].exists():
        raise ConfigError(f"Inställningsfilen {files[0]} ({SETTINGS_FILE_ENV}) finns inte.")
    for path in files:
        try:
            if path.is_file():
                with path.open("rb") as f:
                    tomllib.load(f)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"Inställningsfilen {path} kan inte läsas: {exc}.") from None
    token = _FILES.set(files)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []  # every bad setting in one message, not one per try
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ())) or "?"
            expected = str(error.get("ctx", {}).get("expected", "")).replace(" or ", " eller ")
            reason = _REASONS.get(error.get("type", ""), "värdet går inte att använda").format(
                expected=expected)
            problems.append(f"{where} {reason}")
        if len(problems) == 1:
            raise ConfigError(f"Inställningen {problems[0].replace(' ', ' är fel: ', 1)}.") from None
        raise ConfigError("Inställningarna är fel: " + "; ".join(problems) + ".") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(_unreadable(exc)) from None
    finally:
        _FILES.reset(token)
