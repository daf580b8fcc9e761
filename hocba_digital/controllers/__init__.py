from . import demo_pki
from . import portal
from . import verify
from . import download
from . import demo_population
from . import demo_exchange
