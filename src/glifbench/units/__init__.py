"""Units of the paper behind one interface: the GLIF family, the sign unit and tanh."""

from glifbench.names import UNIT_TYPES, UnitType
from glifbench.units.base import OutputState, Unit
from glifbench.units.glif import GLIFParameters, GLIFState, GLIFUnit, glif_initial_state, glif_step
from glifbench.units.registry import KINDS, UNIT_OPTIONS, make_unit, unit_type
from glifbench.units.stateless import SignUnit, TanhUnit
from glifbench.units.surrogates import METHODS, sign_ste, spike_fn

__all__ = [
    "GLIFParameters", "GLIFState", "GLIFUnit", "KINDS", "METHODS", "OutputState", "SignUnit", "TanhUnit",
    "UNIT_OPTIONS", "UNIT_TYPES", "Unit", "UnitType", "glif_initial_state", "glif_step", "make_unit", "sign_ste",
    "spike_fn", "unit_type",
]  # fmt: skip
