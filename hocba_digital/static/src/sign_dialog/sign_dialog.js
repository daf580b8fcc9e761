/** @odoo-module **/
// The PIN is typed here and sent only inside the signing calls: it is never a
// field of a record, so it is never written to the database.
import { Component, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { _t } from "@web/core/l10n/translation";

const CHUNK = 10;

export class HocbaSignDialog extends Component {
    static template = "hocba_digital.SignDialog";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        const params = this.props.action.params || {};
        this.transcriptIds = params.transcript_ids || [];
        this.state = useState({
            pin: "",
            purpose: params.purpose || "personal",
            running: false,
            finished: false,
            done: 0,
            signed: 0,
            remaining: 0,
            failed: [],
            error: "",
        });
    }

    get total() {
        return this.transcriptIds.length;
    }

    get introText() {
        return _t(
            "%s transcripts selected. Every part of them that is yours to sign and ready is signed with your certificate, in the order of the chain.",
            this.total
        );
    }

    get progressText() {
        return _t("%s of %s transcripts processed, %s signatures made.", this.state.done, this.total, this.state.signed);
    }

    get remainingText() {
        return _t("Still waiting for your signature: %s.", this.state.remaining);
    }

    async sign() {
        if (!this.state.pin) {
            this.state.error = _t("Type your signing PIN.");
            return;
        }
        const pin = this.state.pin;
        this.state.pin = "";
        Object.assign(this.state, { running: true, error: "", done: 0, signed: 0, failed: [], remaining: 0 });
        try {
            for (let start = 0; start < this.total; start += CHUNK) {
                const ids = this.transcriptIds.slice(start, start + CHUNK);
                const result = await this.orm.call("hocba.signing.service", "hocba_sign", [
                    ids,
                    pin,
                    this.state.purpose,
                ]);
                this.state.signed += result.signed;
                this.state.remaining += result.remaining;
                this.state.failed.push(...result.failed);
                this.state.done = Math.min(this.total, start + CHUNK);
            }
        } catch (error) {
            this.state.error = (error.data && error.data.message) || error.message || String(error);
        } finally {
            this.state.running = false;
            this.state.finished = true;
        }
    }

    onKeydown(ev) {
        if (ev.key === "Enter" && !this.state.running) {
            this.sign();
        }
    }

    close() {
        this.actionService.doAction({ type: "ir.actions.act_window_close" });
    }
}

registry.category("actions").add("hocba_digital.sign_dialog", HocbaSignDialog);
