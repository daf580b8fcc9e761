from . import demo_pki
