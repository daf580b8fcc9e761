from . import portal
from . import verify
from . import download
