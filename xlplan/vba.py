"""Compile the button macros into a vbaProject.bin (ms-ovba) for the .xlsm templates.

The project holds ``macros/*.bas`` (our macros) and xlwings' own ``xlwings.bas`` module
(BSD-3-Clause, its notice kept in the module), read from the pinned xlwings package, so a
workbook needs no add-in: ``pip install xlplan`` on the controller's PC is enough.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import tempfile
import uuid
from pathlib import Path

MACROS = ("Validera", "Berakna", "Skicka", "Konsolidera")
CONTRACT_SEED = 20261123
PROJECT_ID = "{6C1F2A4E-0B7D-4E55-9C3A-2D7E8F1A9B30}"


def macro_sources() -> list[Path]:
    here = Path(__file__).resolve().parent
    candidates = [here / "macros", here.parent / "macros"]
    folder = next((p for p in candidates if (p / "xlplan.bas").exists()), candidates[-1])
    import xlwings

    return [*sorted(folder.glob("*.bas")), Path(xlwings.__file__).parent / "xlwings.bas"]


def build_vba_project(target: Path) -> Path:
    """Write vbaProject.bin at ``target`` from the macro sources."""
    import ms_ovba
    from ms_ovba.Models.Entities.doc_module import DocModule
    from ms_ovba.Models.Entities.reference import Reference
    from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
    from ms_ovba.Models.Entities.std_module import StdModule
    from ms_ovba.Models.Fields.libid_reference import LibidReference
    from ms_ovba.vbaProject import VbaProject
    from ms_ovba.Views.project_ole_file import ProjectOleFile

    blank = Path(ms_ovba.__file__).parent / "blank_files"
    project = VbaProject()
    project.project_id = PROJECT_ID
    # ms-ovba writes a normalised copy beside each source (appending to it): every source is
    # copied into a fresh folder first so nothing accumulates and the output is reproducible
    with tempfile.TemporaryDirectory() as tmp:
        for name, guid, doc in (("Sheet1", "0002082000000000C000000000000046", "Sheet1.cls"),
                                ("ThisWorkbook", "0002081900000000C000000000000046",
                                 "ThisWorkbook.cls")):
            copy = Path(tmp) / doc
            shutil.copyfile(blank / doc, copy)
            module = DocModule(name)
            module.add_file(str(copy))
            module.add_guid(uuid.UUID(guid))
            module.normalize_file()
            project.add_module(module)
        for source in macro_sources():
            copy = Path(tmp) / source.name
            shutil.copyfile(source, copy)
            module = StdModule(source.stem)
            module.add_file(str(copy))
            module.normalize_file()
            project.add_module(module)
        for libid, name in (
            (LibidReference(uuid.UUID("0002043000000000C000000000000046"), "2.0", "0",
                            "C:\\Windows\\System32\\stdole2.tlb", "OLE Automation"), "stdole"),
            (LibidReference(uuid.UUID("2DF8D04C5BFA101BBDE500AA0044DE52"), "2.0", "0",
                            r"C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL",
                            "Microsoft Office 16.0 Object Library"), "Office"),
        ):
            project.add_reference(Reference(ReferenceRegistered(libid), name))
        # ms-ovba writes vbaProject.bin into the working folder and draws its obfuscation
        # seeds from the global random module: a fixed seed keeps the templates reproducible
        state = random.getstate()
        try:
            random.seed(CONTRACT_SEED)
            with contextlib.chdir(tmp):
                ProjectOleFile.write_file(project)
                shutil.copyfile(Path(tmp) / "vbaProject.bin", target)
        finally:
            random.setstate(state)
    return target
