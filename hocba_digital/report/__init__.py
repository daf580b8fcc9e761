from . import hocba_progress
from . import hocba_progress_dashboard
from . import report_transcript_document
from . import report_hocba_progress
from . import ir_actions_report
