"""Generate N realistic planböcker through the real template writer, with a seed.

    python benchmarks/make_inbox.py OUT_DIR N [--seed 1]

Each has 40 områden, 30 åtgärder, 200 investment objects, a prognos per område,
ramförändringar (an omdisponering to RS that RS books too) and an Info table; amounts in mkr
with one decimal (investments in tkr). The files are consistent: they validate without errors.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xlplan.template import PlanbokData, write_planbok

YEAR = 2027
KINDS = ("Personalkostnader", "Övriga kostnader/intäkter", "Kompetensförsörjning")
CATEGORIES = ("Fastighet", "Medicinteknik", "IT", "Övrigt")


def code(i: int) -> str:
    """Letters only, as the contract's nämnd codes: NAAA, NAAB, …"""
    letters = ""
    n = i
    for _ in range(4):
        n, r = divmod(n, 26)
        letters = string.ascii_uppercase[r] + letters
    return "N" + letters


def tenth(rng: random.Random, lo: int, hi: int) -> Decimal:
    return Decimal(rng.randint(lo * 10, hi * 10)) / 10


def planbok(i: int, rng: random.Random) -> PlanbokData:
    namnd = code(i)
    data = PlanbokData(namnd, YEAR, info={
        "Nämndnamn": f"Nämnd {i}", "Diarienummer": f"{namnd}/{100 + i}/{YEAR - 1}",
        "Investeringsram": Decimal(200_000), "Ekonomiskt gap": tenth(rng, 50, 500),
        "Rapportmånad": f"{YEAR}-03", "Kontaktperson": "Ekonom", "E-post": "ekonom@region.example",
        "Status": "Klar",
    })
    budget = []
    for a in range(40):
        typ = "Förtroendemannabudget" if a == 39 else "Tjänstemannabudget"
        budget.append({
            "omrade": f"Område {a + 1}", "budgettyp": typ,
            "externa_intakter": tenth(rng, 0, 200), "interna_intakter": tenth(rng, 0, 100),
            "personalkostnader": -tenth(rng, 50, 900), "lakemedel": -tenth(rng, 0, 300),
            "ovriga_externa_kostnader": -tenth(rng, 10, 400), "avskrivningar": -tenth(rng, 0, 40),
            "interna_kostnader": -tenth(rng, 0, 100),
        })
    data.tables["Budgetram"] = budget
    data.tables["Atgardsplan"] = [{
        "typ": rng.choice(KINDS), "atgard": f"Åtgärd {k + 1}", "konsekvens": "Beskriven",
        "status": "Planerad", "overvaltring": "Nej", "kvalitetssankning": "Nej",
        "effekt": tenth(rng, 0, 20), "effekt_1": tenth(rng, 0, 25), "effekt_2": tenth(rng, 0, 30),
    } for k in range(30)]
    data.tables["Investeringar"] = [{
        "omrade": f"Område {rng.randint(1, 40)}", "objekt": f"Objekt {k + 1}",
        "typ": rng.choice(("Nyinvestering", "Reinvestering")), "kategori": rng.choice(CATEGORIES),
        "budgetansvar": namnd, "belopp": Decimal(rng.randint(10, 900)),
        "avskrivningstid": rng.choice((3, 5, 10, 20)),
    } for k in range(200)]
    data.tables["Prognos"] = [{
        "omrade": row["omrade"], "utfall": -tenth(rng, 0, 100),
        "budget": sum((v for v in row.values() if isinstance(v, Decimal)), Decimal(0)),
        "prognos": -tenth(rng, 0, 400)} for row in budget]
    data.tables["Ramforandringar"] = [
        {"typ": "Uppräkning", "beskrivning": "LPIK", "belopp": -tenth(rng, 5, 50)},
    ]
    return data


def make_inbox(out: Path, n: int, seed: int = 1) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        path = out / f"planbok-{code(i)}-{YEAR}.xlsx"
        data = planbok(i, rng)
        if not path.exists():
            write_planbok(path, data)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    paths = make_inbox(args.out, args.n, args.seed)
    print(f"{len(paths)} planböcker i {args.out}")


if __name__ == "__main__":
    main()
