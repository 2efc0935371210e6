"""Plot helpers for every chapter: one module per chapter over one shared style (``figures.style``: the
Korean font, colours, axis helpers and labels). ``from scalinglaws import figures`` gives every public name
of every module (``figures.setup_style``, ``figures.plot_size_law``, ``figures.D_LABEL`` ...).
"""
from .style import *  # noqa: F401,F403  (first: the others build on it)
from .calibration import *  # noqa: F401,F403
from .critical_batch import *  # noqa: F401,F403
from .frontier import *  # noqa: F401,F403
from .overfitting import *  # noqa: F401,F403
from .size_law import *  # noqa: F401,F403
