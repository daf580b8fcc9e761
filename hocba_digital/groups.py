"""The xmlids of the addon's security groups (security/hocba_groups.xml), named
once: Python code uses these constants, never the literal xmlids."""

USER = "hocba_digital.group_hocba_user"
SUBJECT_TEACHER = "hocba_digital.group_hocba_subject_teacher"
HOMEROOM_TEACHER = "hocba_digital.group_hocba_homeroom_teacher"
HEAD_OF_GROUP = "hocba_digital.group_hocba_head_of_group"
VICE_PRINCIPAL = "hocba_digital.group_hocba_vice_principal"
PRINCIPAL = "hocba_digital.group_hocba_principal"
IT_OFFICER = "hocba_digital.group_hocba_it_officer"
CLERK = "hocba_digital.group_hocba_clerk"
ACCOUNTANT = "hocba_digital.group_hocba_accountant"


def any_of(*xmlids):
    """The ``groups=`` value of a field any of ``xmlids`` may read."""
    return ",".join(xmlids)
