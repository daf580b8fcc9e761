import { registry } from "@web/core/registry";

// A parent on a phone: /my, the list of their children's transcripts, one transcript.
registry.category("web_tour.tours").add("hocba_parent_portal", {
    url: "/my",
    steps: () => [
        {
            content: "The digital transcripts card shows a count",
            trigger: ".o_portal_index_card:not(.d-none) a[href='/my/hocba']:has([data-placeholder_count='hocba_version_count'])",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "One issued transcript of my child",
            trigger: ".o_hocba_portal_list .o_hocba_portal_row:has(.o_hocba_child)",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The transcript verifies",
            trigger: ".o_hocba_verdict[data-verdict='valid']",
        },
        {
            content: "Its subjects and signatures are listed",
            trigger: ".o_hocba_subjects li:first .badge",
        },
        {
            content: "The PDF can be downloaded",
            trigger: ".o_hocba_signatures li:first + li",
        },
        {
            trigger: ".o_hocba_downloads a.o_hocba_download_pdf",
        },
    ],
});
