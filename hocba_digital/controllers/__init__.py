from . import demo_pki
from . import portal
from . import verify
from . import demo_exchange
