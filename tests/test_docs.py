"""The docs cannot rot: every ```python block in README.md and docs/*.md runs, and the docs
build as a site with ``mkdocs build --strict`` (a broken link or a missing page fails).

The blocks of one file run in order, in one namespace, in a fresh interpreter whose per-user
folders (HOME, XDG_*) and working directory are temporary. A block that is not meant to run
(a file's content shown for reading, code that needs a host application) is preceded by an
HTML comment ``<!-- docs-test: skip (reason) -->``, which the rendered page does not show.
Each run gets, as a reader would have them at hand, ``stack`` (a ``(2, 64, 64)`` float32
array) and ``code``/``new_code`` (the source of a small folder function ``my_threshold``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b(?P<reason>[^>]*)-->")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")

PRELUDE = '''
import numpy as _np
stack = _np.random.default_rng(0).random((2, 64, 64), dtype=_np.float32)
code = """from openhcs_plugins.decorators import numpy
import numpy as np


@numpy
def my_threshold(image, threshold: float = 0.5):
    \\"\\"\\"Keep pixels above a threshold.\\"\\"\\"
    return np.where(image > threshold, image, 0)
"""
new_code = code.replace("image > threshold", "image >= threshold")
'''

RUNNER = r"""
import json, sys, traceback
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
namespace = {"__name__": "__docs__"}
exec(compile(blocks.pop(0)["code"], "<prelude>", "exec"), namespace)
for block in blocks:
    try:
        exec(compile(block["code"], block["where"], "exec"), namespace)
    except BaseException:
        print(f"FAILED: the block at {block['where']}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
print(f"ran {len(blocks)} blocks")
"""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # the line of the opening fence
    lang: str
    code: str
    skip: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def code_blocks(path: Path) -> list[Block]:
    """Fenced blocks of a Markdown file, with the skip marker on the line before, if any."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        before = next((s for s in reversed(lines[:start]) if s.strip()), "")
        marker = SKIP.search(before)
        blocks.append(
            Block(
                path,
                start + 1,
                opening["lang"],
                textwrap.dedent("\n".join(body)) + "\n",
                marker["reason"].strip(" ()") if marker else None,
            )
        )
        i += 1
    return blocks


def python_blocks(path: Path) -> list[Block]:
    return [b for b in code_blocks(path) if b.lang in ("python", "py") and b.skip is None]


def test_the_block_parser_finds_blocks_and_skip_markers(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "# t\n\n```python\nx = 1\n```\n\n<!-- docs-test: skip (needs a viewer) -->\n"
        "```python\nviewer.show()\n```\n\n```bash\nls\n```\n",
        encoding="utf-8",
    )
    blocks = code_blocks(doc)
    assert [(b.line, b.lang, b.skip) for b in blocks] == [
        (3, "python", None),
        (8, "python", "needs a viewer"),
        (12, "bash", None),
    ]
    assert [b.code for b in python_blocks(doc)] == ["x = 1\n"]


def test_every_skipped_block_says_why() -> None:
    for path in DOC_FILES:
        for block in code_blocks(path):
            if block.skip is not None:
                assert block.skip, f"{block.where}: a skipped block must say why"


def isolated_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENHCS_", "XDG_"))}
    for var, sub in (
        ("HOME", "home"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / sub)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


@pytest.mark.parametrize(
    "path",
    [p for p in DOC_FILES if python_blocks(p)],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_python_blocks_run(path: Path, tmp_path: Path) -> None:
    blocks = [{"where": "<prelude>", "code": PRELUDE}]
    blocks += [{"where": b.where, "code": b.code} for b in python_blocks(path)]
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps(blocks), encoding="utf-8")
    work = tmp_path / "cwd"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(spec)],
        cwd=work,
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ran {len(blocks) - 1} blocks" in result.stdout


@pytest.mark.slow
def test_the_docs_build_as_a_site(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.fail("mkdocs is not installed: python -m pip install -e '.[docs]'")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "security" / "index.html").is_file()
