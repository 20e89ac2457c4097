"""Examples of the API's answers in its description (OpenAPI): real answers, not invented ones.

``openapi_examples.json`` holds, per operation, the status and body of a successful answer as the API gave it
in the API tests (``make openapi-examples`` records them again: the first successful JSON answer of each
operation); ``create_app``
puts each into its operation's JSON response. A test checks that every operation answering JSON has one and
that each still validates against the operation's response model, so a changed answer cannot leave a stale
example behind.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["EXAMPLES_PATH", "attach_examples", "load_examples", "write_examples"]

EXAMPLES_PATH = Path(__file__).with_name("openapi_examples.json")
_LIST_ITEMS = 2  # objects kept of a list in an example (features, rows)
_RING_POINTS = 12  # positions kept of a long coordinate list (closed again when it was a ring)
_TOKENS = {"access_token", "refresh_token"}


def _trim(value: Any) -> Any:
    """Long lists shortened so the description stays readable: lists of objects to their first items, long
    coordinate lists to their first positions (a ring closed again)."""
    if isinstance(value, dict):  # a signed token is shown by its start only: it proved nothing anywhere else
        return {k: (v[:24] + "…" if k in _TOKENS and isinstance(v, str) else _trim(v)) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return [_trim(v) for v in value[:_LIST_ITEMS]]
        if len(value) > _RING_POINTS and all(isinstance(v, list) for v in value):
            closed = value[0] == value[-1]
            kept = [_trim(v) for v in value[:_RING_POINTS]]
            return [*kept, kept[0]] if closed else kept
        return [_trim(v) for v in value]
    return value


def write_examples(path: Path, captured: dict[str, dict[str, Any]]) -> None:
    """Write ``{operation_id: {"status": …, "body": …}}`` (bodies trimmed), sorted, as UTF-8 JSON."""
    out = {op: {"status": ex["status"], "body": _trim(ex["body"])} for op, ex in sorted(captured.items())}
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@cache
def load_examples(path: Path = EXAMPLES_PATH) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def attach_examples(schema: dict[str, Any], examples: dict[str, dict[str, Any]]) -> None:
    """Put each operation's example into its documented answer of that status (JSON content types only)."""
    for operations in schema.get("paths", {}).values():
        for op in operations.values():
            example = examples.get(op.get("operationId", ""))
            if example is None:
                continue
            answer = op.get("responses", {}).get(str(example["status"]))
            if answer is None:
                continue
            for content_type, media in answer.get("content", {}).items():
                if "json" in content_type:
                    media["example"] = example["body"]
