import base64
import contextlib
import logging

from cryptography import x509
from lxml import etree
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import service_scope
from ..groups import PRINCIPAL
from ..lib.documents import transcript_layout, xml_profile
from ..lib.documents.xml_profile.hocba_1_0 import NS_1_0
from ..lib.signing import chain as signing_chain
from ..lib.signing import pades, pades_verify, xades, xades_t

_logger = logging.getLogger(__name__)
# first key of the advisory locks taken while signing a transcript
LOCK_SPACE = 0x48424B53  # "HBKS"
SIGNED = {signing_chain.HOMEROOM, signing_chain.PRINCIPAL, signing_chain.SEAL}


class SigningRefused(UserError):
    """One item cannot be signed now; the batch records why and goes on."""


class HocbaSigningService(models.AbstractModel):
    """The one place where transcripts are signed.

    ``hocba_sign`` is called by the signing dialog with the PIN, which lives
    only in that call: it opens the user's key once, then signs every pending
    item of the given transcripts, each in its own savepoint, so a failure on
    one keeps every signature already made and leaves the rest pending.
    """

    _name = "hocba.signing.service"
    _description = "Transcript signing service"

    # ---- what can be signed ----

    @api.model
    def _hocba_chain_state(self, transcript, version):
        end_year = transcript.subject_result_ids.filtered(lambda r: r.period == "end_year")
        valid = version._hocba_valid_signatures() if version else self.env["hocba.signature"]
        homeroom_sheet = transcript.trait_assessment_ids.filtered(lambda a: a.period == "end_year").sheet_id
        return signing_chain.ChainState(
            subjects=tuple(end_year.subject_id.sorted("sequence").mapped("code")),
            ready_subjects=frozenset(
                end_year.filtered(lambda r: r.sheet_id.state == "submitted").subject_id.mapped("code")
            ),
            signed_subjects=frozenset(
                valid.filtered(lambda s: s.tier == signing_chain.SUBJECT).subject_id.mapped("code")
            ),
            homeroom_ready=bool(homeroom_sheet) and homeroom_sheet.state == "submitted" and bool(transcript.result),
            class_approved=transcript.class_id.review_state == "approved",
            signed=frozenset(valid.filtered(lambda s: s.tier in SIGNED).mapped("tier")),
            issued=bool(version) and version.state != "signing",
        )

    @api.model
    def _hocba_items(self, transcripts, user, purpose):
        """``[(transcript, tier, subject)]`` ``user`` is responsible for, in chain
        order (whether they are ready is checked when signing)."""
        items = []
        for transcript in transcripts.sudo():
            if purpose == "seal":
                items.append((transcript, signing_chain.SEAL, None))
                continue
            for result in transcript.subject_result_ids.filtered(
                lambda r: r.period == "end_year" and r.sheet_id.user_id == user
            ).sorted(lambda r: r.subject_id.sequence):
                items.append((transcript, signing_chain.SUBJECT, result.subject_id))
            if transcript.class_id.homeroom_user_id == user:
                items.append((transcript, signing_chain.HOMEROOM, None))
            if user.has_group(PRINCIPAL):
                items.append((transcript, signing_chain.PRINCIPAL, None))
        return items

    @api.model
    def _hocba_item_refusal(self, transcript, tier, subject):
        version = transcript._hocba_current_version()
        state = self._hocba_chain_state(transcript, version)
        return signing_chain.refusal(tier, state, subject.code if subject else None)

    @api.model
    def _hocba_open_items(self, transcripts, user, purpose):
        """The items still to sign, each with its refusal (None when ready)."""
        return [
            (item, refusal)
            for item in self._hocba_items(transcripts, user, purpose)
            for refusal in [self._hocba_item_refusal(*item)]
            if not refusal or refusal[0] not in ("issued", "already_signed")
        ]

    # ---- signing ----

    @api.model
    def hocba_sign(self, transcript_ids, pin, purpose="personal"):
        """Sign every item of ``transcript_ids`` the current user is responsible
        for and that is ready, in chain order (so a homeroom teacher's own
        subjects come before their homeroom signature).

        Returns ``{"signed": n, "failed": [{"transcript": name, "reason": text}],
        "remaining": n}``: ``failed`` are the items not signed, with why.  The
        PIN opens the key and is dropped.
        """
        if purpose not in ("personal", "seal"):
            raise UserError(_("Unknown signing purpose."))
        user = self.env.user
        transcripts = self.env["hocba.transcript"].browse(transcript_ids).exists()
        transcripts.check_access("read")
        result = {"signed": 0, "failed": [], "remaining": 0}
        items = self._hocba_items(transcripts, user, purpose)
        with contextlib.ExitStack() as stack:
            self._hocba_run(items, user, purpose, pin, stack, result)
        if result["signed"]:
            transcripts.class_id._hocba_plan_signing_activities()
        result["remaining"] = len(self._hocba_open_items(transcripts, user, purpose))
        return result

    def _hocba_run(self, items, user, purpose, pin, stack, result):
        signer = certificate = None
        for transcript, tier, subject in items:
            refusal = self._hocba_item_refusal(transcript, tier, subject)
            if refusal and refusal[0] in ("issued", "already_signed"):
                continue
            failure = refusal and self._hocba_refusal_text(transcript, refusal, subject)
            if not failure:
                if signer is None:  # a wrong PIN or an unusable key stops the whole run
                    certificate = self._hocba_certificate(user, tier, purpose)
                    # two signatures per item at most (XML and PDF)
                    signer = stack.enter_context(certificate._hocba_session(pin, 2 * len(items)))
                    certificate._hocba_check_revocation()
                failure = certificate._hocba_refusal(user, tier)
            if not failure:
                try:
                    with self.env.cr.savepoint():
                        self._hocba_sign_item(transcript, tier, subject, certificate, signer, user)
                    result["signed"] += 1
                    # the files just written are not needed again in this run: a batch
                    # must not keep every transcript's PDF and XML in the cache
                    self.env["hocba.version"].invalidate_model(["xml_file", "pdf_file"])
                    self.env["ir.attachment"].invalidate_model(["datas", "raw", "db_datas"])
                except UserError as exc:  # the savepoint dropped whatever the item wrote
                    failure = exc.args[0]
            if failure:
                result["failed"].append({"transcript": transcript.display_name, "reason": failure})

    def _hocba_certificate(self, user, tier, purpose):
        """The certificate the run signs with; any problem stops the whole run."""
        certificate = self.env["hocba.certificate"]._hocba_for(user, tier)
        if not certificate:
            raise UserError(
                _("You have no signing certificate: ask the IT officer to register one.")
                if purpose != "seal"
                else _("The school has no seal certificate: ask the IT officer.")
            )
        refusal = certificate._hocba_refusal(user, tier)
        if refusal:
            raise UserError(refusal)
        return certificate

    def _hocba_lock(self, transcript):
        """A transaction-long advisory lock per transcript: a second person
        signing the same record at once is told at once, not queued; the
        exclusion constraint on signatures settles any race left."""
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_SPACE, transcript.id])
        if not self.env.cr.fetchone()[0]:
            raise SigningRefused(
                _(
                    "%(name)s is being signed by someone else right now: try again in a moment.",
                    name=transcript.display_name,
                )
            )

    @api.model
    def _hocba_document(self, transcript, version):
        """The XML of ``version`` with its valid signatures, as it stands now."""
        mapping = self.env["hocba.xml.mapping"]
        return xml_profile.build(mapping._hocba_data(transcript, version, version._hocba_valid_signatures()))

    def _hocba_sign_item(self, transcript, tier, subject, certificate, signer, user):
        """Sign one item; the signing service writes what nobody else may
        (versions, signatures, a signed transcript): see service_scope."""
        with service_scope.granted(service_scope.SIGNING):
            return self._hocba_sign_item_granted(transcript, tier, subject, certificate, signer, user)

    def _hocba_sign_item_granted(self, transcript, tier, subject, certificate, signer, user):
        self._hocba_lock(transcript)
        transcript = transcript.sudo()
        transcript.invalidate_recordset()
        version = transcript._hocba_current_version()
        state = self._hocba_chain_state(transcript, version)
        refusal = signing_chain.refusal(tier, state, subject.code if subject else None)
        if refusal:
            raise SigningRefused(self._hocba_refusal_text(transcript, refusal, subject))
        if not version:
            version = transcript._hocba_new_version()
        service = self.sudo()
        mapping = self.env["hocba.xml.mapping"]
        valid = version._hocba_valid_signatures()
        if tier in (signing_chain.SUBJECT, signing_chain.HOMEROOM):
            base = xml_profile.build(mapping._hocba_data(transcript, version, valid))
        else:
            # with_prefetch(): a stored file is read for this version only, not for
            # every version of the batch at each item
            base = base64.b64decode(version.with_prefetch().xml_file)
        # a subject teacher answers for their block: the rest may still be in progress
        errors = xml_profile.validate(
            base, within=signing_chain.subject_block_id(subject.code) if tier == signing_chain.SUBJECT else None
        )
        if errors:
            raise SigningRefused(
                _(
                    "%(name)s: the XML is not valid, nothing was signed:\n%(errors)s",
                    name=transcript.display_name,
                    errors="\n".join(str(e) for e in errors[:10]),
                )
            )
        wrapper = signing_chain.wrapper_id(tier, subject.code if subject else None)
        earlier = [s.wrapper_id for s in valid]
        now = mapping._hocba_now()
        signed = xades.sign_tier(
            base,
            signer,
            signing_chain.references(tier, subject.code if subject else None, earlier),
            parent="{%s}Signatures" % NS_1_0,
            wrapper_tag="{%s}Signature" % NS_1_0,
            wrapper_id=wrapper,
            tier=tier,
            claimed_role=signing_chain.CLAIMED_ROLES[tier],
            signing_time=now,
        )
        tsa_url = transcript.company_id.sudo().hocba_tsa_url
        if tsa_url:  # XAdES-T: the TSA vouches for the time of this signature
            try:
                signed = xades_t.add_signature_timestamp(signed, "%s-ds" % wrapper, tsa_url)
            except xades_t.XadesTimestampError as exc:
                raise SigningRefused(
                    _(
                        "%(name)s: the time-stamping service failed (%(why)s); nothing was signed.",
                        name=transcript.display_name,
                        why=exc,
                    )
                )
        content = self._hocba_ds_signature(signed, wrapper)
        signature = service.env["hocba.signature"].create(
            {
                "version_id": version.id,
                "tier": tier,
                "subject_id": subject.id if subject else False,
                "wrapper_id": wrapper,
                "signer_user_id": user.id,
                "signer_name": xades_cn(signer.certificate),
                "certificate_id": certificate.id,
                "signed_at": fields.Datetime.to_string(now.replace(tzinfo=None)),
                "content": content,
                "covered_digest": mapping._hocba_subject_digest(base, subject.code) if subject else False,
            }
        )
        if tier == signing_chain.SUBJECT:
            return signature
        document = xml_profile.build(mapping._hocba_data(transcript, version, valid | signature))
        vals = {"xml_file": base64.b64encode(document)}
        vals.update(service._hocba_sign_pdf(transcript, version, tier, document, signer, certificate))
        version.write(vals)
        if tier == signing_chain.HOMEROOM and transcript.correction_state:
            transcript.write({"correction_state": False})
        if tier == signing_chain.SEAL:
            version._hocba_issue()
        return signature

    def _hocba_sign_pdf(self, transcript, version, tier, document, signer, certificate):
        """The PDF is made when the homeroom teacher signs (the data is final
        then) with the XML as they signed it embedded; the principal and the
        seal sign the same PDF, the seal's field locking it."""
        company = transcript.company_id.sudo()
        if tier == signing_chain.HOMEROOM:
            pdf = self._hocba_render_pdf(transcript, version, document)
            pdf = pades.prepare(
                pdf,
                transcript_layout.SIGNATURE_FIELDS,
                attachments=[{"name": "hocba.xml", "data": document, "description": "Học bạ số (XML, chữ ký XAdES)"}],
            )
        else:
            pdf = base64.b64decode(version.with_prefetch().pdf_file)
        options = {
            "reason": signing_chain.CLAIMED_ROLES[tier],
            "location": company.name,
            "timestamper_url": company.hocba_tsa_url or None,
        }
        if tier == signing_chain.SEAL:
            options["lock"] = True
            if company.hocba_tsa_url and company.hocba_trusted_roots_pem:
                options["embed_revocation"] = True
                # requests, not aiohttp: aiohttp sessions outlive the event loop
                # pyHanko runs per call and are reported unclosed
                options["validation_context"] = pades_verify.ValidationContext(
                    trust_roots=pades_verify._roots(company.hocba_trusted_roots_pem),
                    allow_fetching=True,
                    revocation_mode="hard-fail",
                    fetcher_backend=RequestsFetcherBackend(),
                )
        try:
            pdf = pades.sign(pdf, signing_chain.PDF_FIELDS[tier], signer, **options)
        except Exception as exc:  # pyHanko raises many kinds; none may leave a half signature
            _logger.warning("PDF signature of %s failed: %s", transcript.display_name, exc)
            raise SigningRefused(
                _(
                    "%(name)s: the PDF could not be signed (%(why)s); nothing was signed.",
                    name=transcript.display_name,
                    why=exc,
                )
            )
        return {"pdf_file": base64.b64encode(pdf)}

    def _hocba_render_pdf(self, transcript, version, document):
        data = xml_profile.parse(document)
        base_url = transcript.get_base_url()
        data.update(
            {
                "verify_url": "%s/hocba/verify/%s" % (base_url, version.document_id),
                "subject_signers": {
                    s.subject_id.code: s.signer_name for s in version._hocba_valid_signatures() if s.subject_id
                },
            }
        )
        return self.env["report.hocba_digital.report_transcript_document"]._hocba_pdf([data], transcript.ids)

    @staticmethod
    def _hocba_ds_signature(document, wrapper_id):
        root = xml_profile.safe_parse(document)
        found = root.xpath("//*[@Id=$i]/*[local-name()='Signature']", i=wrapper_id)
        return etree.tostring(found[0]).decode()

    @api.model
    def _hocba_refusal_text(self, transcript, refusal, subject):
        code, details = refusal
        name = transcript.display_name
        texts = {
            "issued": _("%(name)s is already issued: request a correction to change it."),
            "already_signed": _("%(name)s: this part is already signed."),
            "unknown_subject": _("%(name)s has no row for this subject."),
            "subject_not_ready": _("%(name)s: submit the end-of-year results of %(subject)s before signing them."),
            "subjects_unsigned": _(
                "%(name)s: every subject must be signed by its teacher first (missing: %(details)s)."
            ),
            "homeroom_not_ready": _(
                "%(name)s: submit the end-of-year qualities and competencies "
                "(and complete the year result) before signing."
            ),
            "homeroom_unsigned": _("%(name)s: the homeroom teacher has not signed yet."),
            "not_approved": _("%(name)s: the vice principal has not approved the class yet."),
            "principal_unsigned": _("%(name)s: the principal has not signed yet."),
            "unknown_tier": _("%(name)s: unknown signing role."),
        }
        details = ", ".join(details) if isinstance(details, (list, tuple)) else (details or "")
        return texts[code] % {"name": name, "subject": subject.name if subject else "", "details": details}


def xades_cn(cert):
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return names[0].value if names else cert.subject.rfc4514_string()
