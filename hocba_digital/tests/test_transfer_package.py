import functools
import io
import json
import zipfile

from odoo.tests import BaseCase, tagged

from ..lib.documents import transfer_package as tp
from ..lib.signing import verification

SCHOOL = {"name": "Trường Tiểu học Trần Dương", "code": "31012345", "authority": "Sở GD&ĐT"}
PUPIL = {
    "full_name": "Trần Văn An",
    "birth_date": "2017-12-30",
    "sex": "male",
    "personal_id": "031217004521",
    "moet_code": "3134603469",
}


def document(kind, data, document_id="d-1", version=1, state="issued"):
    return {
        "kind": kind,
        "data": data,
        "document_id": document_id,
        "version": version,
        "state": state,
        "school_year": "2025-2026",
        "class_name": "4A",
        "grade": 4,
    }


def archive(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as handle:
        for name, content in files.items():
            handle.writestr(name, content)
    return buffer.getvalue()


@tagged("post_install", "-at_install")
class TestTransferPackage(BaseCase):
    """The package format on its own (lib.transfer_package): what goes in, and
    how a hostile or broken package is read without harm."""

    def setUp(self):
        super().setUp()
        self.data, self.manifest = tp.build(
            SCHOOL, PUPIL, [document("xml", b"<HocBa/>"), document("pdf", b"%PDF-1.7 signed\n%%EOF")]
        )

    def test_build_keeps_bytes_and_hashes_and_no_personal_id(self):
        manifest, files, errors = tp.read(self.data)
        self.assertEqual(errors, [])
        self.assertEqual(manifest, self.manifest)
        self.assertNotIn("personal_id", manifest["pupil"])
        self.assertNotIn(PUPIL["personal_id"], json.dumps(manifest))
        by_kind = {e["kind"]: e for e in manifest["documents"]}
        self.assertEqual(files[by_kind["pdf"]["path"]], b"%PDF-1.7 signed\n%%EOF")
        self.assertEqual(by_kind["xml"]["sha256"], tp.sha256(b"<HocBa/>"))
        self.assertEqual(by_kind["xml"]["school"], {"name": SCHOOL["name"], "code": SCHOOL["code"]})
        with self.assertRaises(ValueError):
            tp.build(SCHOOL, PUPIL, [document("xml", b"a"), document("xml", b"b")])

    def test_broken_or_hostile_packages_are_reported(self):
        manifest = json.dumps(self.manifest).encode()
        cases = {
            "not a ZIP file": b"%PDF-1.4",
            "the package is empty": b"",
            "has no manifest.json": archive({"documents/x/a.xml": b"<a/>"}),
            "not valid JSON": archive({"manifest.json": b"{"}),
            "not a transfer package": archive({"manifest.json": b'{"format": "other"}'}),
            "unexpected file in the package: ../../etc/passwd": archive(
                {"manifest.json": manifest, "../../etc/passwd": b"x"}
            ),
            "too many files": archive(
                dict({"manifest.json": manifest}, **{"documents/x/%d.xml" % i: b"" for i in range(tp.MAX_FILES + 1)})
            ),
            "is too large": archive(
                {"manifest.json": manifest, "documents/x/big.pdf": b"\0" * (tp.MAX_FILE_BYTES + 1)}
            ),
        }
        for expected, data in cases.items():
            with self.subTest(expected):
                read_manifest, files, errors = tp.read(data)
                self.assertTrue(any(expected in e for e in errors), errors)
                report = tp.inspect(data, lambda content: self.fail("nothing to verify"))
                self.assertFalse(report["verdict"])

    def test_unsigned_documents_do_not_verify(self):
        verify = functools.partial(verification.verify_document, trusted_roots=[])
        report = tp.inspect(self.data, verify)
        self.assertFalse(report["verdict"])
        self.assertTrue(all(d["hash_ok"] for d in report["documents"]))
        self.assertTrue(all(not d["ok"] for d in report["documents"]))
        for doc in report["documents"]:
            self.assertTrue(any("signatures do not verify" in e for e in doc["errors"]), doc)
