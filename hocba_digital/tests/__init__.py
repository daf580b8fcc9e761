from . import test_personal_id
from . import test_school_core
from . import test_access_matrix
from . import test_install
from . import test_translation
from . import test_assessment_rules
from . import test_assessment_flow
