import { registry } from "@web/core/registry";

// Select every transcript of the list, run "Ký số", type the PIN and sign.
function signSteps(pin, purpose) {
    const steps = [
        { content: "Find the test pupil", trigger: ".o_searchview_input", run: "edit Nguyễn Thị Mai Anh" },
        { trigger: ".o_searchview_input", run: "press Enter" },
        { trigger: ".o_facet_values:contains('Nguyễn Thị Mai Anh')" },
        { trigger: ".o_data_row:contains('Nguyễn Thị Mai Anh')" },
        { content: "Select every transcript", trigger: "thead .o_list_record_selector input", run: "click" },
        { trigger: ".o_cp_action_menus .dropdown-toggle", run: "click" },
        { trigger: ".o-dropdown--menu .o-dropdown-item:contains('Ký số')", run: "click" },
        { trigger: ".o_hocba_sign_dialog #hocba_sign_pin", run: `edit ${pin}` },
    ];
    if (purpose === "seal") {
        steps.push({ trigger: ".o_hocba_sign_dialog #hocba_sign_purpose", run: "select seal" });
    }
    steps.push(
        { trigger: ".o_hocba_sign_dialog .o_hocba_sign_button", run: "click" },
        {
            content: "The run is over and something was signed",
            trigger: ".o_hocba_sign_dialog:has(.o_hocba_sign_finished):not(:has(.alert-danger))",
        },
        { trigger: ".o_hocba_sign_dialog .btn-secondary", run: "click" },
        { trigger: ".o_list_view" },
    );
    return steps;
}

registry.category("web_tour.tours").add("hocba_sign_as_myself", {
    steps: () => signSteps("468213", "personal"),
});

registry.category("web_tour.tours").add("hocba_sign_as_the_seal", {
    steps: () => signSteps("468213", "seal"),
});
