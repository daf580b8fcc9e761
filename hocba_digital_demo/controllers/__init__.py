from . import demo_pki
from . import demo_population
from . import demo_exchange
