"""Situational norms as data: the frame model, the built-in library and loaders for user tables.

See :mod:`socialsim.scenarios.norms.frames` for the data model and variants, and
:mod:`socialsim.scenarios.norms.tables` for the CSV formats (frame tables and
rule-of-thumb tables) and their column names.
"""

from socialsim.scenarios.norms.frames import (
    CATEGORIES,
    DATA_DIR,
    LABELS,
    Label,
    Norm,
    NormFrame,
    NormLibrary,
    as_distribution,
    builtin_library,
    derive_frame,
    load_yaml_frames,
    modal_label,
    normalise_culture,
)
from socialsim.scenarios.norms.tables import (
    judgement_label,
    load_frame_table,
    load_norms,
    load_rot_table,
)

__all__ = [
    "CATEGORIES",
    "DATA_DIR",
    "LABELS",
    "Label",
    "Norm",
    "NormFrame",
    "NormLibrary",
    "as_distribution",
    "builtin_library",
    "derive_frame",
    "judgement_label",
    "load_frame_table",
    "load_norms",
    "load_rot_table",
    "load_yaml_frames",
    "modal_label",
    "normalise_culture",
]
