import { registry } from "@web/core/registry";

// A merchant connects an eMAG account that already sold: its past orders are previewed,
// then imported as history, never as new sales. The Python test sets up the account
// (tests/test_browser.py) and checks the outcome.
registry.category("web_tour.tours").add("stock_multichannel_emag_first_connection", {
    steps: () => [
        {
            content: "Add a channel",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Connect is the tab the form opens on",
            trigger: ".o_form_view .o_notebook .nav-item:first .nav-link.active:contains('Connect')",
        },
        {
            content: "Name the channel",
            trigger: ".o_form_view .o_field_widget[name='name'] input",
            run: "edit eMAG Romania connected today",
        },
        {
            content: "It is an eMAG account",
            trigger: ".o_form_view .o_field_widget[name='channel_type'] select",
            run: 'select "emag"',
        },
        {
            content: "The form says where the API user comes from and which IP to whitelist",
            trigger: ".o_multichannel_emag_connect_help:contains('API user'):contains('IP whitelist')",
        },
        {
            content: "Romania's API address comes with the platform",
            trigger: ".o_form_view .o_field_widget[name='emag_base_url'] input:value('127.0.0.1')",
        },
        {
            content: "The API user",
            trigger: ".o_form_view .o_field_widget[name='emag_username'] input",
            run: "edit seller-history",
        },
        {
            content: "Its password",
            trigger: ".o_form_view .o_field_widget[name='emag_password'] input",
            run: "edit History-pa55",
        },
        {
            content: "Sell at the lei pricelist",
            trigger: ".o_form_view .o_field_widget[name='pricelist_id'] input",
            run: "edit eMAG History RON",
        },
        {
            content: "Choose it",
            trigger: ".ui-menu-item > a:contains('eMAG History RON')",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
        {
            content: "Test the connection",
            trigger: ".o_form_view button[name='action_test_connection']",
            run: "click",
        },
        {
            content: "eMAG answers",
            trigger: ".o_notification:contains('Connected to eMAG')",
        },
        {
            content: "Open the Orders tab",
            trigger: ".o_form_view .o_notebook .nav-link[name='orders']",
            run: "click",
        },
        {
            content: "Orders are imported from the moment the channel was connected",
            trigger: ".o_form_view .o_field_widget[name='order_import_since'] input:value(':')",
        },
        {
            content: "Preview what a first import brings",
            trigger: ".o_form_view button[name='action_preview_order_import']",
            run: "click",
        },
        {
            content: "The preview: the account's past orders are history, nothing is a new sale",
            trigger:
                ".o_notification:contains('would read 6 orders'):contains('0 new sales to import')" +
                ":contains('6 placed before')",
        },
        {
            content: "Import the orders",
            trigger: ".o_form_view button[name='action_import_orders']",
            run: "click",
        },
        {
            content: "Imported",
            trigger: ".o_notification:contains('Orders imported.')",
        },
        {
            content: "The channel now knows 6 orders",
            trigger: ".o_form_view button[name='action_view_orders']:contains('6')",
            run: "click",
        },
        {
            content: "Every one is kept as history: not imported, no sale order",
            trigger:
                ".o_list_view:has(.o_data_row:contains('Not Imported'))" +
                ":not(:has(.o_data_row:not(:contains('Not Imported'))))" +
                ":not(:has(.o_data_row td[name='sale_order_id'] a))",
        },
        {
            content: "The finalized order is among them, with its customer",
            trigger: ".o_list_view .o_data_row:contains('Finalized Customer'):contains('Not Imported')",
            run() {
                document.querySelectorAll(".o_notification_close").forEach((button) => button.click());
            },
        },
        {
            content: "The list is in full view",
            trigger: "body:not(:has(.o_notification))",
        },
    ],
});
