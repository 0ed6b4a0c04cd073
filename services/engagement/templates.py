"""Template rendering in a sandbox: admins write templates, the mesh's data fills them.

Jinja2's `ImmutableSandboxedEnvironment`: no access to underscore attributes or
Python internals (`{{ ''.__class__.__mro__ }}` raises), no mutation of the data,
and `StrictUndefined`, so a misspelt variable fails the render instead of sending
an e-mail with a hole in it. HTML bodies are autoescaped; subjects, text bodies and
SMS are not (they are not HTML). Rendered output is capped in size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_TEMPLATE_CHARS = 100_000
MAX_OUTPUT_CHARS = 200_000
MAX_SUBJECT_CHARS = 255


class RenderError(Exception):
    """A template did not compile or render (syntax, unknown variable, sandbox)."""


@dataclass(frozen=True)
class Content:
    subject: str
    text_body: str
    html_body: str


def _rupees(paise: Any) -> str:
    """Indian grouping: 123456789 paise -> "₹12,34,567.89"."""
    try:
        value = int(paise)
    except (TypeError, ValueError):
        return str(paise)
    sign = "-" if value < 0 else ""
    rupees, rest = divmod(abs(value), 100)
    digits = str(rupees)
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join([*groups, tail])
    return f"{sign}₹{digits}.{rest:02d}"


@lru_cache(maxsize=2)
def _env(autoescape: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["rupees"] = _rupees
    return env


@lru_cache(maxsize=512)
def _compile(source: str, autoescape: bool) -> Any:
    return _env(autoescape).from_string(source)


def check(source: str, *, html: bool = False) -> str | None:
    """None if `source` compiles in the sandbox, else what is wrong."""
    if len(source) > MAX_TEMPLATE_CHARS:
        return f"must be at most {MAX_TEMPLATE_CHARS} characters"
    try:
        _compile(source, html)
    except TemplateError as exc:
        return f"does not compile: {exc}"
    return None


def render_one(source: str, data: Mapping[str, Any], *, html: bool = False) -> str:
    if not source:
        return ""
    try:
        out = _compile(source, html).render(dict(data))
    except SecurityError as exc:
        raise RenderError(f"blocked by the template sandbox: {exc}") from None
    except TemplateError as exc:
        raise RenderError(f"{type(exc).__name__}: {exc}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise RenderError(f"{type(exc).__name__}: {exc}") from None
    if len(out) > MAX_OUTPUT_CHARS:
        raise RenderError(f"rendered output exceeds {MAX_OUTPUT_CHARS} characters")
    return out


def render(subject: str, text_body: str, html_body: str, data: Mapping[str, Any]) -> Content:
    """Render a template's three parts with `data` (RenderError on any failure)."""
    subj = " ".join(render_one(subject, data).split())[:MAX_SUBJECT_CHARS]
    return Content(
        subject=subj,
        text_body=render_one(text_body, data).strip(),
        html_body=render_one(html_body, data, html=True).strip(),
    )
