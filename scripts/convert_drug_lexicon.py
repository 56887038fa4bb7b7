"""Convert drug-named-entity-recognition's dictionary (MIT, Fast Data Science) once into a data file.

medspeak reads drug names from ``medspeak/indexing/rules/data/drug_ner/variants.json.gz`` (name → first
canonical ingredient), not from the package: its import unpickles ``~/.omop_cache.pkl`` from the user's
home folder (a file any process of that user can write: code execution in a clinical server), and its data
file is a private pickle whose name and layout may change in any release. Run again after upgrading the
package (installed only for this: ``pip install 'drug-named-entity-recognition==2.0.9'``):

    .venv/bin/python scripts/convert_drug_lexicon.py
"""

from __future__ import annotations

import bz2
import gzip
import importlib.metadata
import importlib.util
import json
import pickle  # noqa: S403 - the package's own data file, read once here by a maintainer
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "medspeak" / "indexing" / "rules" / "data" / "drug_ner"


def main() -> None:
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install drug-named-entity-recognition first")
    folder = Path(spec.submodule_search_locations[0])
    with bz2.open(folder / "drug_ner_dictionary.pkl.bz2", "rb") as data:
        variants = pickle.load(data)["drug_variant_to_canonical"]  # noqa: S301
    names = {variant: str(canonicals[0]) for variant, canonicals in variants.items() if canonicals}
    raw = json.dumps(names, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "variants.json.gz").write_bytes(gzip.compress(raw, 9, mtime=0))  # mtime 0: the same bytes each run
    dist = importlib.metadata.distribution("drug-named-entity-recognition")
    licence = next(f for f in dist.files or [] if f.name == "LICENSE")
    shutil.copyfile(Path(str(dist.locate_file(licence))), OUT / "LICENSE")
    (OUT / "SOURCE").write_text(
        f"drug-named-entity-recognition {dist.version} (PyPI), MIT licence (LICENSE here), Fast Data Science Ltd;\n"
        "names from DrugBank, MeSH and the NHS. variants.json.gz: its drug_variant_to_canonical, each name with\n"
        f"its first canonical ingredient ({len(names)} names), made by scripts/convert_drug_lexicon.py.\n",
        encoding="utf-8",
    )
    sys.stdout.write(f"{len(names)} names written to {OUT}\n")


if __name__ == "__main__":
    main()
