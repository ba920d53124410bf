"""LibreOffice headless as the real spreadsheet engine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise AssertionError(
            "LibreOffice (soffice) saknas: installera libreoffice-calc-nogui. "
            "Testerna mot en riktig kalkylmotor får inte hoppas över."
        )
    return exe


def recalculate(path: Path, out_dir: Path, fmt: str = "xlsx") -> Path:
    """Open ``path`` in LibreOffice, recalculate, save as ``fmt`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / ".lo-profile"
    env = {**os.environ, "HOME": str(out_dir)}
    subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--calc",
         "--convert-to", fmt, "--outdir", str(out_dir), str(path)],
        check=True, capture_output=True, timeout=180, env=env,
    )
    result = out_dir / (path.stem + "." + fmt)
    assert result.exists(), f"LibreOffice skrev ingen {result.name}"
    return result
