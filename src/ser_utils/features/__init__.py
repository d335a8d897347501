from .frames import *  # noqa: F401,F403
from .frames import __all__, __doc__  # noqa: F401
