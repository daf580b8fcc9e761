from . import res_company
from . import hocba_demo_loader
from . import hocba_demo_pki
from . import hocba_demo_certificate_cost
from . import hocba_demo_population
from . import hocba_demo_exchange
from . import hocba_demo_progress
