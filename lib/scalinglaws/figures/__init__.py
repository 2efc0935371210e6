"""Plot helpers for every chapter: one module per chapter over one shared style (``figures.style``: the
Korean font, colours, axis helpers and labels). ``from scalinglaws import figures`` gives every public name
of every module (``figures.setup_style``, ``figures.plot_size_law``, ``figures.D_LABEL`` ...).

Importing it applies the book's style (the Korean font first of all): an axis label keeps the font of the moment
its axes were made, so a chapter that makes its axes with ``plt.subplots`` before its first plot helper would
otherwise draw Hangul as empty boxes.
"""
from .style import *  # noqa: F401,F403  (first: the others build on it)
from .calibration import *  # noqa: F401,F403
from .critical_batch import *  # noqa: F401,F403
from .frontier import *  # noqa: F401,F403
from .overfitting import *  # noqa: F401,F403
from .size_law import *  # noqa: F401,F403

setup_style()
