"""The ~107k drug names are read from the converted data file with its licence, never from the package."""

from __future__ import annotations

from pathlib import Path

from medspeak.indexing.rules import lexicon
from tests.support.processes import run_python

DATA = Path(lexicon.__file__).parent / "data" / "drug_ner"


def test_the_converted_names_ship_with_their_licence_and_source() -> None:
    assert {"variants.json.gz", "LICENSE", "SOURCE"} <= {p.name for p in DATA.iterdir()}
    assert "MIT License" in (DATA / "LICENSE").read_text() and "Fast Data Science" in (DATA / "LICENSE").read_text()
    assert "drug-named-entity-recognition 2.0.9" in (DATA / "SOURCE").read_text()


def test_the_lexicon_has_the_packaged_names_without_importing_the_package() -> None:
    code = (
        "import sys\n"
        "from medspeak.indexing.rules.lexicon import drug_lexicon\n"
        "names = drug_lexicon()\n"
        "assert len(names) > 100_000, len(names)\n"
        "assert names['lipitor'] == 'atorvastatin' and names['synthroid'] == 'levothyroxine'\n"
        "assert 'drug_named_entity_recognition' not in sys.modules\n"
    )
    run_python(code)
