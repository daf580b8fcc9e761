/** @odoo-module **/
// The steering committee's dashboard: one RPC (hocba.progress.hocba_dashboard_data)
// gives every figure; each figure opens the records behind it.
import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { _t } from "@web/core/l10n/translation";

const TIERS = [
    ["signed_subject", _t("Subject teachers")],
    ["signed_homeroom", _t("Homeroom teacher")],
    ["signed_principal", _t("Principal")],
    ["signed_seal", _t("Seal")],
];

function percentOf(part, whole) {
    return whole ? Math.round((100 * (part || 0)) / whole) : null;
}

export class ProgressCell extends Component {
    static template = "hocba_digital.ProgressCell";
    static props = { n: { optional: true }, of: { optional: true }, pct: { optional: true } };

    get pctText() {
        return this.props.pct === null || this.props.pct === undefined ? "–" : `${this.props.pct}%`;
    }

    get barStyle() {
        return `width: ${this.props.pct || 0}%`;
    }

    get barClass() {
        return this.props.pct === 100 ? "bg-success" : "";
    }
}

export class HocbaProgressDashboard extends Component {
    static template = "hocba_digital.ProgressDashboard";
    static components = { Layout, ProgressCell };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.tiers = TIERS;
        this.state = useState({ data: null, loading: true, busy: false });
        onWillStart(() => this.load((this.props.action.context || {}).year_id || false));
    }

    get display() {
        return { controlPanel: {} };
    }

    get data() {
        return this.state.data || {};
    }

    get texts() {
        const figures = this.data.totals.figures;
        return {
            transcripts: _t("%s transcripts in %s classes", figures.transcripts, figures.classes),
            sheets: _t("%s of %s end-of-year sheets submitted", figures.sheets_submitted, figures.sheets_total),
            overdue: _t("%s sheets past their due date", figures.sheets_overdue),
            locked: _t("%s checked and locked", figures.locked),
            issued: _t("%s of %s transcripts signed by every tier", figures.issued, figures.transcripts),
        };
    }

    async load(yearId) {
        this.state.loading = true;
        this.state.data = await this.orm.call("hocba.progress", "hocba_dashboard_data", [yearId]);
        this.state.loading = false;
    }

    onYearChange(ev) {
        this.load(parseInt(ev.target.value, 10));
    }

    pct(value) {
        return value === null || value === undefined ? "–" : `${value}%`;
    }

    percentOf(part, whole) {
        return percentOf(part, whole);
    }

    sumOf(rows, key) {
        return rows.reduce((total, row) => total + (row[key] || 0), 0);
    }

    barStyle(value) {
        return `width: ${value || 0}%`;
    }

    deadlineClass(deadline) {
        if (deadline.classes_missing || deadline.forecast.misses) {
            return "border-danger";
        }
        return deadline.forecast.status === "done" ? "border-success" : "border-info";
    }

    stageClass(stage) {
        return {
            not_prepared: "text-bg-light",
            data_entry: "text-bg-warning",
            checking: "text-bg-info",
            approval: "text-bg-info",
            signing: "text-bg-primary",
            issued: "text-bg-success",
        }[stage];
    }

    async runYearMethod(method) {
        this.state.busy = true;
        try {
            const action = await this.orm.call("school.year", method, [[this.data.year_id]]);
            await this.actionService.doAction(action);
        } finally {
            this.state.busy = false;
        }
    }

    print() {
        return this.runYearMethod("action_hocba_print_progress");
    }

    send() {
        return this.runYearMethod("action_hocba_send_progress");
    }

    openList(resModel, name, domain, context = {}) {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            name,
            res_model: resModel,
            domain,
            context,
            views: [
                [false, "list"],
                [false, "form"],
            ],
        });
    }

    scope(row) {
        return row ? [["class_id", "=", row.id]] : [["year_id", "=", this.data.year_id]];
    }

    openSheets(row) {
        return this.openList("hocba.entry.sheet", _t("End-of-year sheets"), [
            ...this.scope(row),
            ["period", "=", "end_year"],
        ]);
    }

    openOverdue(row) {
        return this.openList("hocba.entry.sheet", _t("Overdue sheets"), [
            ...this.scope(row),
            ["state", "=", "draft"],
            ["due_date", "<", this.data.today_iso],
        ]);
    }

    openTranscripts(row) {
        return this.openList("hocba.transcript", _t("Transcripts"), this.scope(row));
    }

    openClass(row) {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "school.class",
            res_id: row.id,
            views: [[false, "form"]],
        });
    }

    openClasses() {
        return this.openList("school.class", _t("Classes"), [["year_id", "=", this.data.year_id]]);
    }

    openFigures() {
        return this.openList("hocba.progress", _t("Progress by class"), this.scope(), {
            search_default_group_grade: 1,
        });
    }
}

registry.category("actions").add("hocba_progress_dashboard", HocbaProgressDashboard);
