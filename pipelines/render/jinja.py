"""The Jinja2 environment of the HTML pages: the templates folder, values escaped, strict."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


def environment(**filters: Callable[..., Any]) -> jinja2.Environment:
    """A new environment on :data:`TEMPLATES` with ``filters``; an undefined name is an error."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters)
    return env
