from . import hocba_reconciliation_wizard
