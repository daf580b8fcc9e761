import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path
from odoo.tools.translate import TranslationModuleReader

from ..lib.rules import personal_id as pid


def untranslated(cr, addon):
    """(the terms ``addon`` adds, those of them its i18n/vi.po does not translate)."""
    reader = TranslationModuleReader(cr, modules=[addon])
    sources = {source for module, _type, _name, _res_id, source, _value, _comments in reader if module == addon}
    catalogue = polib.pofile(file_path(f"{addon}/i18n/vi.po"))
    translated = {
        entry.msgid for entry in catalogue if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags
    }
    return sources, sorted(sources - translated)


@tagged("post_install", "-at_install")
class TestVietnamese(TransactionCase):
    """Every string the addon adds has a Vietnamese translation, and it is used."""

    def test_every_string_is_translated(self):
        _sources, missing = untranslated(self.env.cr, "hocba_digital")
        self.assertFalse(missing, "Not translated into Vietnamese:\n%s" % "\n".join(missing))

    def test_screens_and_messages_in_vietnamese(self):
        self.env["res.lang"]._activate_lang("vi_VN")
        self.env["ir.module.module"].search([("name", "=", "hocba_digital")])._load_module_terms(
            ["hocba_digital"], ["vi_VN"], overwrite=True
        )
        menu = self.env.ref("hocba_digital.hocba_menu_root").with_context(lang="vi_VN")
        self.assertEqual(menu.name, "Học bạ số")
        subject = self.env.ref("hocba_digital.school_subject_toan").with_context(lang="vi_VN")
        self.assertEqual(subject.name, "Toán")
        issue_message = self.env["school.student"].with_context(lang="vi_VN")._hocba_personal_id_message
        message = issue_message(pid.check("03131700452")[0])
        self.assertIn("12", message)
        self.assertNotIn("digits", message)
