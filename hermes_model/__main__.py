"""``python -m hermes_model``: see `hermes_model.cli`."""

import sys

from hermes_model.cli import main

sys.exit(main())
