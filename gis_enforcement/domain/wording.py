"""Small helpers for the platform's messages in English."""

from __future__ import annotations

__all__ = ["with_article"]


def with_article(word: str) -> str:
    """``word`` with its indefinite article: "an admin", "an assignment", "a case", "a patrol"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
