import { registry } from "@web/core/registry";

// The principal opens the roll-out dashboard, picks the test school's year and
// reads 3A's figures; a figure opens the records behind it.
registry.category("web_tour.tours").add("hocba_progress_dashboard", {
    steps: () => [
        { content: "The dashboard is open", trigger: ".o_hocba_progress_dashboard .o_hocba_progress_cards" },
        {
            content: "Pick the year 2035-2036",
            trigger: "select.o_hocba_progress_year",
            async run(helpers) {
                const option = [...helpers.anchor.options].find((o) => o.textContent.trim() === "2035-2036");
                await helpers.select(option.value);
            },
        },
        { trigger: ".o_hocba_progress_dashboard:contains('School year 2035-2036')" },
        {
            content: "3A: every end-of-year sheet submitted",
            trigger: ".o_hocba_class_row[data-class='3A'] .o_hocba_cell_entered:contains('12/12'):contains('100%')",
        },
        {
            content: "3B: nothing submitted yet",
            trigger: ".o_hocba_class_row[data-class='3B'] .o_hocba_cell_entered:contains('0/12')",
        },
        { trigger: ".o_hocba_card_entered .o_hocba_card_value:contains('50%')" },
        { trigger: ".o_hocba_deadline_signing:contains('Signed and issued')" },
        {
            content: "Open 3A's end-of-year sheets",
            trigger: ".o_hocba_class_row[data-class='3A'] .o_hocba_cell_entered",
            run: "click",
        },
        { trigger: ".o_list_view .o_data_row:contains('3A')" },
        { trigger: ".breadcrumb-item:contains('Roll-out progress')" },
    ],
});
