from . import test_personal_id
from . import test_school_core
from . import test_access_matrix
from . import test_install
