"""Reading the crawl stage's YAML configuration files (channels, page signatures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml_config(path: Path | str, what: str, error: type[Exception]) -> Any:
    """The parsed YAML of ``path``; a missing or malformed file raises ``error`` naming it."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{what} file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise error(f"{what} file {path} is not valid YAML: {exc}") from exc
