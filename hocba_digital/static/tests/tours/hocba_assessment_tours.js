import { registry } from "@web/core/registry";

// Each tour is one person's part of a class's year, as they would click it.

const grid = (field) => `.o_field_widget[name=${field}] .o_data_row:first`;

registry.category("web_tour.tours").add("hocba_subject_teacher_fills_sheet", {
    steps: () => [
        {
            content: "Open my end-of-year English sheet, the one left to fill",
            trigger: ".o_data_row:contains('Foreign language 1') td[name=subject_id]",
            run: "click",
        },
        {
            content: "Start editing the pupil's row",
            trigger: `${grid("subject_result_ids")} td[name=level]`,
            run: "click",
        },
        {
            trigger: `${grid("subject_result_ids")} td[name=level] select`,
            run: "selectByLabel T - Completed well",
        },
        {
            trigger: `${grid("subject_result_ids")} td[name=score] input`,
            run: "edit 9",
        },
        {
            trigger: `${grid("subject_result_ids")} td[name=comment] textarea`,
            run: "edit Phát âm chuẩn, giao tiếp tự tin.",
        },
        { trigger: ".o_form_button_save", run: "click" },
        { trigger: ".o_form_saved" },
        { trigger: "button[name=action_submit]", run: "click" },
        { content: "Confirm the submission", trigger: ".modal-footer .btn-primary", run: "click" },
        { trigger: ".o_statusbar_status button[aria-checked=true]:contains('Submitted')" },
    ],
});

registry.category("web_tour.tours").add("hocba_homeroom_teacher_fills_traits", {
    steps: () => [
        {
            content: "Open my end-of-year qualities and competencies sheet",
            trigger: ".o_data_row:contains('Homeroom') td[name=kind]",
            run: "click",
        },
        {
            trigger: `${grid("trait_assessment_ids")} td[name=level_trung_thuc]`,
            run: "click",
        },
        {
            trigger: `${grid("trait_assessment_ids")} td[name=level_trung_thuc] select`,
            run: "selectByLabel T - Good",
        },
        { trigger: ".o_form_button_save", run: "click" },
        { trigger: ".o_form_saved" },
        { trigger: "button[name=action_submit]", run: "click" },
        { trigger: ".modal-footer .btn-primary", run: "click" },
        { trigger: ".o_statusbar_status button[aria-checked=true]:contains('Submitted')" },
    ],
});

registry.category("web_tour.tours").add("hocba_head_locks_class", {
    steps: () => [
        { content: "The data-quality check is clean", trigger: ".o_notebook a:contains('Data-quality check')", run: "click" },
        { trigger: ".o_field_widget[name=blocking_count]:contains('0')" },
        { trigger: "button[name=action_lock]", run: "click" },
        { trigger: ".modal-footer .btn-primary", run: "click" },
        { trigger: ".o_statusbar_status button[aria-checked=true]:contains('Locked for checking')" },
    ],
});

registry.category("web_tour.tours").add("hocba_vice_principal_approves_class", {
    steps: () => [
        { trigger: "button[name=action_approve]", run: "click" },
        { trigger: ".o_statusbar_status button[aria-checked=true]:contains('Approved for signing')" },
    ],
});
