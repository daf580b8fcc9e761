/** @odoo-module **/
// The key file's password and the new signing PIN only travel inside the call
// that seals the key; they are never fields of a record.
import { Component, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { _t } from "@web/core/l10n/translation";

export class HocbaKeyDialog extends Component {
    static template = "hocba_digital.KeyDialog";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.certificateId = (this.props.action.params || {}).certificate_id;
        this.file = null;
        this.state = useState({ password: "", pin: "", pin2: "", running: false, error: "", done: false });
    }

    onFile(ev) {
        this.file = ev.target.files[0] || null;
    }

    readFile() {
        return new Promise((resolve, reject) => {
            const reader = new FileReader();
            reader.onload = () => resolve(reader.result.split(",")[1]);
            reader.onerror = () => reject(reader.error);
            reader.readAsDataURL(this.file);
        });
    }

    async store() {
        if (!this.file) {
            this.state.error = _t("Choose the key file (.p12 or .pfx).");
            return;
        }
        if (this.state.pin !== this.state.pin2) {
            this.state.error = _t("The two PINs differ.");
            return;
        }
        const { password, pin } = this.state;
        Object.assign(this.state, { password: "", pin: "", pin2: "", running: true, error: "" });
        try {
            const data = await this.readFile();
            await this.orm.call("hocba.certificate", "hocba_store_pkcs12", [[this.certificateId], data, password, pin]);
            this.state.done = true;
        } catch (error) {
            this.state.error = (error.data && error.data.message) || error.message || String(error);
        } finally {
            this.state.running = false;
        }
    }

    close() {
        this.actionService.doAction({ type: "ir.actions.act_window_close" });
    }
}

registry.category("actions").add("hocba_digital.key_dialog", HocbaKeyDialog);
