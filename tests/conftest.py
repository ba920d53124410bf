from __future__ import annotations

import hashlib
from pathlib import Path

import pytest


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
