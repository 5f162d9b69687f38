"""The scripted corpus (filled in below)."""
from __future__ import annotations


def corpus_cases():
    return []
