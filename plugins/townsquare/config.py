"""townsquare.yml: the one configuration file, validated with pydantic.

Errors name the field path and what was expected, e.g.
``townsquare.yml: sources[1].type: expected one of feed, wordpress, wxr (got 'wxrr')``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

FAMILIES: dict[str, str] = {
    "wxr": "blog",
    "wordpress": "blog",
    "feed": "blog",
    "discourse": "forum",
    "mbox": "forum",
    "pipermail": "forum",
    "git": "repo",
    "github": "repo",
    "gharchive": "repo",
    "crm": "commercial",
}
"""Every source type of the design, by family (not all are implemented yet)."""

DEFAULT_HOME = ".townsquare"


class ConfigError(ValueError):
    """A configuration problem, phrased for the person who wrote the file."""


class Credentials(BaseModel):
    """Where a source's secrets come from: an Airflow connection and/or env vars.

    ``env`` maps a credential key (``username``, ``password``, ``token``, ...) to the
    name of the environment variable holding it. Secrets are never written in the file.
    """

    model_config = ConfigDict(extra="forbid")

    conn_id: str | None = None
    env: dict[str, str] = Field(default_factory=dict)

    def resolve(self) -> dict[str, str]:
        values: dict[str, str] = {}
        if self.conn_id:
            values.update(_airflow_connection(self.conn_id))
        for key, var in self.env.items():
            if var not in os.environ:
                raise ConfigError(f"credential {key!r}: environment variable {var} is not set")
            values[key] = os.environ[var]
        return values


def _airflow_connection(conn_id: str) -> dict[str, str]:
    try:
        from airflow.sdk import BaseHook
    except ImportError:  # pragma: no cover - airflow is a dependency
        raise ConfigError(f"credentials.conn_id={conn_id!r} needs Airflow installed") from None
    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:
        raise ConfigError(f"Airflow connection {conn_id!r} not found: {exc}") from None
    values = {}
    if conn.login:
        values["username"] = conn.login
    if conn.password:
        values["password"] = conn.password
    extra = conn.extra_dejson or {}
    for key in ("token", "api_key", "api_username"):
        if extra.get(key):
            values[key] = str(extra[key])
    return values


class SourceConfig(BaseModel):
    """One configured source instance."""

    model_config = ConfigDict(extra="forbid")

    type: str
    name: str
    location: str
    schedule: str | None = None
    enabled: bool = True
    since: str | None = None
    """Where the first landing starts (ISO 8601); later runs are incremental from the state.
    (``--since`` on the command line re-reads from a date, whatever the state.)"""
    credentials: Credentials = Field(default_factory=Credentials)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        from townsquare.connectors.registry import implemented_types

        types = implemented_types()
        if value not in types:
            planned = " (planned, not implemented yet)" if value in FAMILIES else ""
            raise ValueError(f"expected one of {', '.join(sorted(types))} (got {value!r}{planned})")
        return value

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(
                "expected a slug: lowercase letters, digits, '-' or '_', "
                f"starting with a letter or digit, at most 63 characters (got {value!r})"
            )
        return value

    @property
    def family(self) -> str:
        return FAMILIES[self.type]


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: str = "@daily"
    retries: int = Field(3, ge=0, le=20)
    retry_delay_seconds: int = Field(60, ge=1)


class TownsquareConfig(BaseModel):
    """The whole file. Relative paths resolve against the file's folder."""

    model_config = ConfigDict(extra="forbid")

    lake: str = f"{DEFAULT_HOME}/lake"
    warehouse: str = f"{DEFAULT_HOME}/warehouse.duckdb"
    publish: str | None = Field(
        None,
        description="Folder the checked marts are published to (read-only DuckDB snapshot, "
        "Parquet, dbt docs, dashboard); default: `published/` beside the warehouse.",
    )
    quarantine_threshold: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Largest share of a batch's rows that may be quarantined before the "
        "landing fails.",
    )
    defaults: Defaults = Field(default_factory=Defaults)
    sources: list[SourceConfig] = Field(default_factory=list)
    base_dir: str = Field(".", exclude=True)

    @model_validator(mode="after")
    def _unique_names(self) -> TownsquareConfig:
        seen: set[str] = set()
        for i, src in enumerate(self.sources):
            if src.name in seen:
                raise ValueError(f"sources[{i}].name: duplicate source name {src.name!r}")
            seen.add(src.name)
        return self

    def sources_for(self, family: str) -> list[SourceConfig]:
        return [s for s in self.sources if s.enabled and s.family == family]

    def schedule_for(self, family: str) -> str | None:
        """The family's schedule: the first enabled source's, else the default."""
        for src in self.sources_for(family):
            if src.schedule:
                return src.schedule
        return self.defaults.schedule

    def resolve_path(self, value: str) -> str:
        """Make a local relative path absolute (against the config's folder); keep URLs."""
        if "://" in value:
            return value
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = Path(self.base_dir) / path
        return str(path.resolve())

    def resolve_location(self, location: str) -> str:
        """A relative local source location, resolved against the config's folder when
        it exists there (tasks run in any working directory); URLs are kept as written."""
        if "://" in location or Path(location).expanduser().is_absolute():
            return location
        candidate = Path(self.base_dir) / location
        return str(candidate.resolve()) if candidate.exists() else location

    @property
    def lake_path(self) -> str:
        return self.resolve_path(self.lake)

    @property
    def warehouse_path(self) -> str:
        return self.resolve_path(self.warehouse)

    @property
    def publish_path(self) -> str | None:
        return self.resolve_path(self.publish) if self.publish else None


def lake_and_warehouse(
    cfg: TownsquareConfig | None, lake: str | None = None, warehouse: str | None = None
) -> tuple[str, str]:
    """The lake and warehouse to use, by precedence: explicit values (command-line
    options), then ``$TOWNSQUARE_LAKE``/``$TOWNSQUARE_WAREHOUSE``, then the config file,
    then ``./.townsquare/``. Local paths come back absolute."""

    def absolute(value: str) -> str:
        return value if "://" in value else str(Path(value).expanduser().resolve())

    lake = (
        lake
        or os.environ.get("TOWNSQUARE_LAKE")
        or (cfg.lake_path if cfg else f"{DEFAULT_HOME}/lake")
    )
    warehouse = (
        warehouse
        or os.environ.get("TOWNSQUARE_WAREHOUSE")
        or (cfg.warehouse_path if cfg else f"{DEFAULT_HOME}/warehouse.duckdb")
    )
    return absolute(lake), absolute(warehouse)


def publish_dir(cfg: TownsquareConfig | None, warehouse: str, publish: str | None = None) -> str:
    """Where the marts are published, by precedence: an explicit value, ``$TOWNSQUARE_PUBLISH``,
    the config's ``publish``, then ``published/`` beside the warehouse. Absolute."""
    value = (
        publish
        or os.environ.get("TOWNSQUARE_PUBLISH")
        or (cfg.publish_path if cfg else None)
        or str(Path(warehouse).parent / "published")
    )
    if "://" in value:
        raise ConfigError(f"publish: {value}: the publish folder must be a local path")
    return str(Path(value).expanduser().resolve())


def format_validation_error(exc: ValidationError, origin: str) -> str:
    lines = []
    for err in exc.errors():
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        msg = err["msg"]
        msg = msg.removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        lines.append(f"{origin}: {path or '<top>'}: {msg}")
    return "\n".join(lines)


def parse_config(
    data: Any, origin: str = "townsquare.yml", base_dir: str = "."
) -> TownsquareConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{origin}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return TownsquareConfig.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, origin)) from None


def load_config(path: str | os.PathLike[str] | None = None) -> TownsquareConfig:
    """Load and validate townsquare.yml (``$TOWNSQUARE_CONFIG`` or ./townsquare.yml)."""
    path = Path(path or os.environ.get("TOWNSQUARE_CONFIG", "townsquare.yml"))
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None
    return parse_config(data, origin=str(path), base_dir=str(path.resolve().parent))
