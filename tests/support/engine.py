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


# LibreOffice's own default for a file Excel (or a tool calling itself Excel, as xlsxwriter
# does) wrote is to trust the cached results ("never recalculate"): a test of what the
# engine computes must make it recalculate every formula on load (0: always)
_ALWAYS_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculate(path: Path, out_dir: Path, fmt: str = "xlsx") -> Path:
    """Open ``path`` in LibreOffice, recalculate every formula (whatever results the file
    holds), save as ``fmt`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / ".lo-profile"
    settings = profile / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(_ALWAYS_RECALCULATE, encoding="utf-8")
    env = {**os.environ, "HOME": str(out_dir)}
    subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--calc",
         "--convert-to", fmt, "--outdir", str(out_dir), str(path)],
        check=True, capture_output=True, timeout=180, env=env,
    )
    result = out_dir / (path.stem + "." + fmt)
    assert result.exists(), f"LibreOffice skrev ingen {result.name}"
    return result
