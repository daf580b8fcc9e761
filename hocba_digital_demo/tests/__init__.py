from . import test_demo_install
from . import test_demo_pki
from . import test_demo_population
from . import test_exchange_demo
