"""``python -m fastdnn.bench``: the same as ``fastdnn bench``."""
import sys

from . import main

sys.exit(main())
