from . import hocba_review_wizard
