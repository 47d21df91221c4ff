"""Units of the paper: the GLIF family, the sign unit and tanh, behind one registry."""

from glifbench.units.glif import GLIFParameters, GLIFState, glif_initial_state, glif_step
from glifbench.units.registry import UNIT_OPTIONS, UNIT_TYPES, OutputState, Unit, UnitType, unit_type
from glifbench.units.surrogates import METHODS, sign_ste, spike_fn

__all__ = [
    "GLIFParameters", "GLIFState", "METHODS", "OutputState", "UNIT_OPTIONS", "UNIT_TYPES", "Unit",
    "UnitType", "glif_initial_state", "glif_step", "sign_ste", "spike_fn", "unit_type",
]  # fmt: skip
