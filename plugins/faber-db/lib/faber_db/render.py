"""Human-readable rendering of results through jinja2 templates (`templates/`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from faber_db.results import Result

_TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["mark"] = _mark
    return env


def _mark(status: str) -> str:
    return {"success": "ok", "warning": "!!", "failure": "XX", "skipped": "--"}.get(status, status)


def render_result(result: Result) -> str:
    return render_dict(result.to_dict())


def render_dict(data: dict[str, Any]) -> str:
    """Render a result given as its JSON data (what the CLI printed)."""
    env = _environment()
    name = f"{data['operation']}.txt.j2"
    template = env.get_template(name if (_TEMPLATES / name).is_file() else "result.txt.j2")
    return str(template.render(r=data, details=data.get("details") or {})).rstrip()
