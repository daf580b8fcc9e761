"""Guards never trust the client's context (issue 14, docs/security.md).

Odoo hands the context a client sends to ``/web/dataset/call_kw`` to the
method unchanged.  The flags the services once set in the context
(``hocba_signing_service``, ``hocba_unlocking``, ``hocba_exchange_service``,
``hocba_version_cleanup``, ``hocba_issue_register``, ``hocba_transfer_import``)
are sent here the way an attacker would: as a logged-in user, over JSON-RPC.
Every guard must hold.  The legitimate paths (the services) are covered by the
signing, exchange and transfer tests.
"""

import json

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import service_scope
from .signing_common import PIN, SigningCase

FLAGS = (
    "hocba_signing_service",
    "hocba_unlocking",
    "hocba_exchange_service",
    "hocba_version_cleanup",
    "hocba_issue_register",
    "hocba_transfer_import",
)
EVERY_FLAG = dict.fromkeys(FLAGS, True)
CORRECTION_BUTTONS = "Use the correction buttons to request or open a correction."


@tagged("post_install", "-at_install")
class TestSecurityContext(HttpCase, SigningCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.it_officer = cls.users["it_officer"]
        # 3A: every tier signs, the version is issued, its package is pending
        service = cls.env["hocba.signing.service"]
        for user, purpose in (
            (cls.subj, "personal"),
            (cls.home, "personal"),
            (None, None),
            (cls.principal, "personal"),
            (cls.clerk, "seal"),
        ):
            if user is None:
                cls.class_a.with_user(cls.head).action_lock()
                cls.class_a.with_user(cls.vice).action_approve()
                continue
            result = service.with_user(user).hocba_sign(cls.transcript_a.ids, PIN, purpose)
            assert not result["failed"], result["failed"]
        cls.version_a = cls.transcript_a.current_version_id
        cls.exchange_a = cls.version_a.exchange_ids
        cls.signature_a = cls.version_a.signature_ids[:1]
        # 3B: locked for checking, nothing signed
        cls.class_b.sudo().write({"review_state": "locked"})
        cls.issue_log = cls.env["hocba.issue.log"]._hocba_register(
            "copy", cls.student_a, cls.version_a, b"%PDF", requester_name="Test", requester_relation="parent"
        )

    def setUp(self):
        super().setUp()
        self.assertEqual(self.version_a.state, "issued")
        self.assertEqual(self.exchange_a.state, "pending")
        self.assertEqual(self.class_b.review_state, "locked")

    def call_kw(self, user, model, method, args, kwargs=None, context=None):
        """``model.method(*args, **kwargs)`` as ``user`` through
        /web/dataset/call_kw, ``context`` sent as the client would: the JSON
        answer ({"result": ...} or {"error": ...})."""
        self.authenticate(user.login, user.login)
        kwargs = dict(kwargs or {}, context=dict({"lang": "en_US"}, **(context or {})))
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": args, "kwargs": kwargs},
        }
        with mute_logger("odoo.http"):
            response = self.url_open(
                "/web/dataset/call_kw/%s/%s" % (model, method),
                data=json.dumps(payload),
                headers={"Content-Type": "application/json"},
            )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def assertRefused(self, answer, message=None):
        self.assertNotIn("result", answer, "the guard let the call through")
        self.assertIn("error", answer)
        if message:
            self.assertIn(message, answer["error"]["data"]["message"])

    def reread(self, record, fields):
        self.env.invalidate_all()
        return record.read(fields)[0]

    # ------------------------------------------------------------------

    def test_service_scope_is_not_in_the_odoo_context(self):
        """The mechanism: a grant holds for the block only, nested grants restore
        what was there, and no context reaches it."""
        self.assertFalse(service_scope.active(service_scope.SIGNING))
        with service_scope.granted(service_scope.SIGNING):
            self.assertTrue(service_scope.active(service_scope.SIGNING))
            with service_scope.granted(service_scope.EXCHANGE):
                self.assertTrue(service_scope.active(service_scope.SIGNING))
                self.assertTrue(service_scope.active(service_scope.EXCHANGE))
            self.assertFalse(service_scope.active(service_scope.EXCHANGE))
        self.assertFalse(service_scope.active(service_scope.SIGNING))
        with self.assertRaises(RuntimeError), service_scope.granted(service_scope.SIGNING):
            raise RuntimeError("the block fails")
        self.assertFalse(service_scope.active(service_scope.SIGNING))
        with self.assertRaises(ValueError):
            service_scope.active("hocba_signing_service")

    def test_vice_principal_cannot_open_a_correction_with_the_signing_flag(self):
        before = self.reread(self.transcript_a, ["correction_state"])
        for context in ({"hocba_signing_service": True}, EVERY_FLAG):
            answer = self.call_kw(
                self.vice,
                "hocba.transcript",
                "write",
                [self.transcript_a.ids, {"correction_state": "open"}],
                context=context,
            )
            self.assertRefused(answer, CORRECTION_BUTTONS)
        self.assertEqual(self.reread(self.transcript_a, ["correction_state"]), before)
        self.assertFalse(before["correction_state"])

    def test_homeroom_teacher_cannot_open_a_correction_nor_break_signatures(self):
        valid = self.version_a._hocba_valid_signatures()
        for vals in ({"correction_state": "open"}, {"correction_state": "open", "height_cm": 99.5}):
            answer = self.call_kw(
                self.home,
                "hocba.transcript",
                "write",
                [self.transcript_a.ids, vals],
                context={"hocba_signing_service": True},
            )
            self.assertRefused(answer, CORRECTION_BUTTONS)
        # nor change the signed data directly
        answer = self.call_kw(
            self.home, "hocba.transcript", "write", [self.transcript_a.ids, {"height_cm": 99.5}], context=EVERY_FLAG
        )
        self.assertRefused(answer, "is signed: its data can no longer change")
        after = self.reread(self.transcript_a, ["correction_state", "height_cm"])
        self.assertFalse(after["correction_state"])
        self.assertNotEqual(after["height_cm"], 99.5)
        self.assertEqual(self.version_a._hocba_valid_signatures(), valid)
        self.assertEqual(self.version_a.state, "issued")

    def test_locked_class_stays_locked_whatever_the_context(self):
        result_b = self.result_b
        before = self.reread(self.transcript_b, ["height_cm"])
        comment = self.reread(result_b, ["comment"])
        for context in ({"hocba_unlocking": True}, {"hocba_signing_service": True}, EVERY_FLAG):
            answer = self.call_kw(
                self.users["home_b"],
                "hocba.transcript",
                "write",
                [self.transcript_b.ids, {"height_cm": 118.0}],
                context=context,
            )
            self.assertRefused(answer, "is locked for checking")
            answer = self.call_kw(
                self.users["home_b"],
                "hocba.subject.result",
                "write",
                [result_b.ids, {"comment": "Changed behind the reviewer's back."}],
                context=context,
            )
            self.assertRefused(answer, "is locked for checking")
        self.assertEqual(self.reread(self.transcript_b, ["height_cm"]), before)
        self.assertEqual(self.reread(result_b, ["comment"]), comment)

    def test_it_officer_cannot_set_a_package_state(self):
        fields = ["state", "receiver_ref", "acknowledged_at"]
        before = self.reread(self.exchange_a, fields)
        for context in ({"hocba_exchange_service": True}, EVERY_FLAG):
            answer = self.call_kw(
                self.it_officer,
                "hocba.exchange",
                "write",
                [self.exchange_a.ids, {"state": "acknowledged", "receiver_ref": "forged"}],
                context=context,
            )
            self.assertRefused(answer, "The state of a package follows the transcript store's answers")
        self.assertEqual(self.reread(self.exchange_a, fields), before)
        self.assertEqual(before["state"], "pending")

    def test_code_written_records_refuse_every_flag(self):
        """Versions, signatures, the register and received documents: no role
        may write them (access rights), and no flag changes that."""
        cases = [
            (self.principal, self.version_a, "write", {"state": "signing"}),
            (self.clerk, self.version_a, "unlink", None),
            (self.principal, self.signature_a, "write", {"state": "invalidated", "invalidated_reason": "x"}),
            (self.clerk, self.signature_a, "unlink", None),
            (self.clerk, self.issue_log, "write", {"note": "forged"}),
            (self.clerk, self.issue_log, "unlink", None),
        ]
        for user, record, method, vals in cases:
            with self.subTest(model=record._name, method=method):
                args = [record.ids, vals] if vals is not None else [record.ids]
                self.assertRefused(self.call_kw(user, record._name, method, args, context=EVERY_FLAG))
                self.env.invalidate_all()
                self.assertTrue(record.exists())
        self.assertEqual(self.version_a.state, "issued")
        self.assertEqual(self.signature_a.state, "valid")
        self.assertFalse(self.issue_log.note)
        creates = [
            (self.clerk, "hocba.issue.log", {"kind": "copy", "student_id": self.student_a.id, "name": "forged"}),
            (
                self.clerk,
                "hocba.transfer.document",
                {"student_id": self.student_a.id, "kind": "xml", "filename": "forged.xml"},
            ),
            (
                self.principal,
                "hocba.signature",
                {
                    "version_id": self.version_a.id,
                    "tier": "principal",
                    "wrapper_id": "forged",
                    "signer_user_id": self.principal.id,
                    "signer_name": "x",
                    "certificate_id": self.signature_a.certificate_id.id,
                    "signed_at": "2036-05-20 08:00:00",
                    "content": "<x/>",
                },
            ),
            (self.principal, "hocba.version", {"transcript_id": self.transcript_b.id, "number": 1}),
        ]
        for user, model, vals in creates:
            with self.subTest(model=model, method="create"):
                count = self.env[model].search_count([])
                self.assertRefused(self.call_kw(user, model, "create", [vals], context=EVERY_FLAG))
                self.env.invalidate_all()
                self.assertEqual(self.env[model].search_count([]), count)
        # the IT officer may create a package: it is the version's own, made by the
        # exchange service, whatever the values and the context say
        answer = self.call_kw(
            self.it_officer,
            "hocba.exchange",
            "create",
            [{"version_id": self.version_a.id, "idempotency_key": "forged", "state": "acknowledged"}],
            context=EVERY_FLAG,
        )
        self.assertEqual(answer.get("result"), self.exchange_a.id)
        self.env.invalidate_all()
        self.assertEqual(self.version_a.exchange_ids, self.exchange_a)
        self.assertEqual(self.exchange_a.state, "pending")
        self.assertNotEqual(self.exchange_a.idempotency_key, "forged")
