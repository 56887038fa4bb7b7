"""Name lists for synthetic patients and clinicians: common given and family names, chosen by us.

Any resemblance to a real person is the chance meeting of common names.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CLINICIANS", "FAMILY_NAMES", "GIVEN_NAMES"]

# Space-separated: one word a name (compound names would need another separator).
GIVEN_NAMES: Final = {
    ("en", "female"): tuple(
        "Margaret Susan Linda Patricia Karen Emily Sarah Jessica Hannah Olivia "
        "Grace Helen Dorothy Ruth Alice Joan Emma Rachel Laura Fiona".split()
    ),
    ("en", "male"): tuple(
        "James Robert William David Richard Thomas Michael George Edward Peter "
        "Daniel Matthew Andrew Henry Arthur Samuel Jack Oliver Paul Stephen".split()
    ),
    ("fr", "female"): tuple(
        "Marie Sophie Camille Chloé Élodie Hélène Françoise Isabelle Nathalie Sylvie "
        "Geneviève Josée Amélie Léa Manon Céline Valérie Monique Claire Mélanie".split()
    ),
    ("fr", "male"): tuple(
        "Jean Pierre Michel André François Jacques Luc Étienne Julien Mathieu "
        "Nicolas Sébastien Gilles René Benoît Yves Denis Louis Hugo Gabriel".split()
    ),
}

FAMILY_NAMES: Final = {
    "en": tuple(
        "Smith Johnson Brown Taylor Wilson Clarke Walker Wright Hughes Evans Turner Parker Collins "
        "Harris Bennett Murphy Cooper Mitchell Campbell Reid Stewart Morgan Fraser Graham Fletcher".split()
    ),
    "fr": tuple(
        "Tremblay Gagnon Roy Côté Bouchard Gauthier Morin Lavoie Fortin Gagné Ouellet Pelletier Bélanger "
        "Lévesque Bergeron Leblanc Paquette Girard Simard Boucher Caron Beaulieu Cloutier Dubois Lefèvre".split()
    ),
}

# Fictional staff who sign the demo documents.
CLINICIANS: Final = (
    "Dr. A. Whitcombe",
    "Dr. L. Ferreira",
    "Dr. M. Okafor",
    "Dr. S. Lindqvist",
    "Dr. C. Beaudry",
    "Dr. J. Nakamura",
    "Dr. É. Marchand",
    "Dr. R. Castellane",
)
