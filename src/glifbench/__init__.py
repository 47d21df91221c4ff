"""glifbench: reproduction of Chapman et al., "Biological Dynamics Enabling Training of Binary
Recurrent Networks" (NICE 2024)."""

__version__ = "0.1.0"
