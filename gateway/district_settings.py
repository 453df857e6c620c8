"""``district.toml``: the district's name and its sites (id, name, children, floor area); values only.

The central broker's set-up (``houqin district mqtt-setup``) gives each site here a login that may publish
only under ``houqin/{site}/``; children and floor area are what the district's figures are divided by.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.contract import check_id
from gateway.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class DistrictSite(_Section):
    """``[[sites]]``: one kindergarten or school of the district."""

    id: str
    """The site's id, as in its own ``[site] id`` (its MQTT prefix ``houqin/{id}/`` and its user on the broker)."""
    name: str = ""
    """The school's name for people (e.g. ``"阳光幼儿园"``)."""
    children: int = Field(default=0, ge=0)
    """Children enrolled (water and electricity per child)."""
    floor_area_m2: float = Field(default=0.0, ge=0)
    """Heated or cooled floor area in m² (electricity per m²)."""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "sunshine-kg")


class DistrictSettings(_Section):
    """The whole ``district.toml``."""

    name: str
    """The district's name for people (e.g. ``"海淀区教委"``)."""
    sites: list[DistrictSite] = Field(default_factory=list)
    """``[[sites]]``: every site that reports to the district."""

    @model_validator(mode="after")
    def _unique(self) -> DistrictSettings:
        seen: set[str] = set()
        for s in self.sites:
            if s.id in seen:
                raise ValueError(f"site id {s.id!r} is used twice; every [[sites]] id must be unique")
            seen.add(s.id)
        return self


def load_district(path: Path) -> DistrictSettings:
    """Read and check ``district.toml``; raises ConfigError naming each problem."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file; write a district.toml with name = \"...\" and [[sites]]"]) from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError([f"{path}: {e}"]) from None
    try:
        return DistrictSettings.model_validate(doc)
    except ValidationError as e:
        raise ConfigError([f"{path}: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()]) \
            from None
