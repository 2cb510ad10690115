"""``python -m tsunagu.cli``: the same as the ``tsunagu`` console script."""

import sys

from . import main

sys.exit(main())
