from . import hocba_review_wizard
from . import hocba_result_import_wizard
from . import hocba_correction_wizard
from . import hocba_verification_wizard
from . import hocba_signing_settings
from . import hocba_certificate_cost_export
from . import hocba_issue_wizard
from . import hocba_transfer_import_wizard
