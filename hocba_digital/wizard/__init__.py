from . import hocba_review_wizard
from . import hocba_result_import_wizard
from . import hocba_correction_wizard
from . import hocba_verification_wizard
from . import hocba_signing_settings
from . import hocba_exchange_settings
