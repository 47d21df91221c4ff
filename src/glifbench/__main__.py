"""``python -m glifbench <command>``: see :mod:`glifbench.cli`."""

import sys

from glifbench.cli import main

sys.exit(main())
