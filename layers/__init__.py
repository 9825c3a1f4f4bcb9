"""Map layers: one module per layer, each exposing `LAYER` (see layers/base.py).

REGISTRY lists the modules app.py tries to import, in drawing order; a module that does
not exist yet is skipped, so layer modules can land independently.
"""
REGISTRY = [
    "layers.deprivation",
    "layers.wards",
    "layers.priority",
    "layers.indicators",
    "layers.access",
    "layers.services",
    "layers.planner",
    "layers.areas",
]
