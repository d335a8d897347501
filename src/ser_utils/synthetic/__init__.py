from .voice import *  # noqa: F401,F403
from .voice import __all__, __doc__, _msp_specs, _render  # noqa: F401
