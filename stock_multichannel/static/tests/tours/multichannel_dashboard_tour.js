import { registry } from "@web/core/registry";

const CARD = ".o_kanban_record:contains('Browser Test Channel')";

registry.category("web_tour.tours").add("stock_multichannel_dashboard", {
    steps: () => [
        {
            content:
                "The channel's card counts its listing error and pending listings (the two never pushed, " +
                "and the one in error whose stock changed since: its change waits for a push)",
            trigger: `${CARD}:contains('3 pending listings') .text-danger:contains('1 listing errors')`,
        },
        {
            content: "Drill down into the listing errors",
            trigger: `${CARD} a[name='action_view_errors']`,
            run: "click",
        },
        {
            content: "The refused listing is shown with the channel's message",
            trigger: ".o_list_view .o_data_row:contains('Browser Chair'):contains('Offer refused by the channel')",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "The dashboard is shown again",
            trigger: `${CARD}:contains('1 listing errors')`,
        },
    ],
});

registry.category("web_tour.tours").add("stock_multichannel_channel_form", {
    steps: () => [
        {
            content: "Open the channel from its card",
            trigger: `${CARD} .fw-bold`,
            run: "click",
        },
        {
            content: "The channel's form is open",
            trigger: ".o_form_view .o_breadcrumb:contains('Browser Test Channel')",
        },
        {
            content: "Its settings are shown",
            trigger: ".o_form_view .o_notebook .nav-link",
        },
    ],
});

registry.category("web_tour.tours").add("stock_multichannel_stock_cover", {
    steps: () => [
        {
            content: "A product sold out of stock is flagged to replenish now",
            trigger: ".o_list_view .o_data_row.text-danger:contains('Browser Lamp')",
        },
        {
            content: "A product in stock shows its days of cover",
            trigger: ".o_list_view .o_data_row:not(.text-danger):contains('Browser Chair')",
        },
    ],
});
