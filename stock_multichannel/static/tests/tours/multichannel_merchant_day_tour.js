import { registry } from "@web/core/registry";

const MENU = "stock_multichannel.menu_multichannel";

function openApp(xmlid) {
    return [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: `Open ${xmlid}`,
            trigger: `.o_app[data-menu-xmlid='${xmlid}']`,
            run: "click",
        },
    ];
}

function openMultichannel(section, item) {
    return [
        {
            content: "Open the Multichannel menu",
            trigger: `.o_menu_sections [data-menu-xmlid='${section}']`,
            run: "click",
        },
        {
            content: `Open ${item}`,
            trigger: `.dropdown-menu [data-menu-xmlid='${item}']`,
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("stock_multichannel_menus_and_orders", {
    steps: () => [
        ...openApp("sale.sale_menu_root"),
        ...openMultichannel(`${MENU}_sale`, `${MENU}_sale_orders`),
        {
            content: "Channel orders list what was ordered, by whom, for how much",
            trigger:
                ".o_list_view .o_data_row:contains('Browser Test Channel 100001'):contains('Ioana Browser')" +
                ":contains('2 × Browser Chair'):contains('251.00')",
        },
        {
            content: "No order is made by hand",
            trigger: ".o_list_view:not(:has(.o_list_button_add))",
        },
        {
            content: "Open the order",
            trigger: ".o_list_view .o_data_row:contains('Browser Test Channel 100001') td[name='name']",
            run: "click",
        },
        {
            content: "The order reads as an order: customer, date, total, products",
            trigger:
                ".o_form_view:contains('Ioana Browser'):contains('251.00')" +
                " .o_notebook .tab-pane.active:contains('2 × Browser Chair (BCHAIR) @ 120')",
        },
        {
            content: "The raw payload is only in a technical tab (not for a plain user)",
            trigger: ".o_form_view .o_notebook:not(:has(.nav-link[name='payload']))",
        },
        ...openApp("stock.menu_stock_root"),
        ...openMultichannel(`${MENU}_stock`, `${MENU}_stock_to_fix`),
        {
            content: "Orders to Fix shows only the order that needs a human, with its reason",
            trigger: ".o_list_view .o_data_row:contains('Browser Test Channel 100002'):contains('No listing')",
        },
        {
            content: "Orders to Fix has no New button",
            trigger: ".o_control_panel:not(:has(.o_list_button_add))",
        },
    ],
});

registry.category("web_tour.tours").add("stock_multichannel_reports", {
    steps: () => [
        ...openApp("sale.sale_menu_root"),
        ...openMultichannel(`${MENU}_sale`, `${MENU}_best_sellers`),
        {
            content: "Best sellers open as a bar chart of units sold",
            trigger: ".o_graph_view .o_graph_button[data-mode='bar'].active",
        },
        {
            content: "Switch to the list",
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            content: "The product sold most comes first; shipping is not a best seller",
            trigger:
                ".o_list_view .o_data_row:first:contains('Browser Lamp')" +
                ":not(:contains('Channel Shipping'))",
        },
        {
            content: "Nothing of shipping in the list",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Channel Shipping')))",
        },
        ...openMultichannel(`${MENU}_sale`, `${MENU}_sales_by_channel`),
        {
            content: "Sales by channel open as bars, one per channel, not a line",
            trigger: ".o_graph_view .o_graph_button[data-mode='bar'].active",
        },
        ...openMultichannel(`${MENU}_sale`, `${MENU}_availability`),
        {
            content: "Availability: one row per channel, shown quantities never summed across channels",
            trigger: ".o_list_view:not(:has(tfoot td:contains('Shown')))",
        },
    ],
});

registry.category("web_tour.tours").add("stock_multichannel_schedule_warning", {
    steps: () => [
        {
            content: "Open the channel from its card",
            trigger: ".o_kanban_record:contains('Browser Test Channel') .fw-bold",
            run: "click",
        },
        {
            content: "Connect is the first tab",
            trigger: ".o_form_view .o_notebook .nav-item:first .nav-link:contains('Connect')",
        },
        {
            content: "Open the schedules",
            trigger: ".o_form_view .o_notebook .nav-link[name='schedules']",
            run: "click",
        },
        {
            content: "Choose hourly stock pushes",
            trigger: ".o_form_view div[name='stock_schedule'] select",
            run: 'select "hourly"',
        },
        {
            content: "The form warns how long the channel may keep selling what is gone",
            trigger: ".o_multichannel_schedule_warning:contains('up to 60 minutes')",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            // once saved: a tour ending on a form still saving leaves it in edition mode
            content: "Saved, the next run is shown",
            trigger: ".o_form_view .o_form_saved .o_field_widget[name='next_stock_run']:contains(':')",
        },
    ],
});

// Every report's list, and the lists a merchant reads orders and listings in: no column
// header cut off ("Available…") at the browser's size, in English and in Romanian (the
// language of eMAG's merchants, whose words run longer). Collected over every list, said
// at the end. [menu item, title in English, title in Romanian, switch to the list view]
const REPORT_LISTS = [
    ["availability", "Availability by Channel", "Disponibilitate pe canale", false],
    ["stock_cover", "Stock Cover and Rotation", "Acoperirea și rotația stocului", false],
    ["best_sellers", "Best Sellers by Channel", "Cele mai vândute pe canale", true],
    ["sales_by_channel", "Sales by Channel", "Vânzări pe canale", true],
    ["shipped", "Shipped by Channel", "Livrat pe canale", true],
    ["oversell_incidents", "Oversell Incidents", "Incidente de vânzare peste stoc", true],
    ["invoices_by_channel", "Invoices by Channel", "Facturi pe canale", true],
    ["sale_sale_orders", "Channel Sale Orders", "Comenzi de vânzare de pe canale", false],
    ["sale_orders", "Channel Orders", "Comenzi de pe canale", false],
    ["sale_listings", "Listings", "Listări", false],
    ["sale_ledger", "Sync Ledger", "Registru de sincronizare", false],
];

function cutOffHeaders() {
    return [...document.querySelectorAll(".o_list_renderer thead th .text-truncate")]
        .filter((label) => label.scrollWidth > label.clientWidth + 1)
        .map((label) => label.textContent.trim());
}

function reportHeaderSteps(titleIndex) {
    const cut = [];
    const steps = [...openApp("sale.sale_menu_root")];
    for (const list of REPORT_LISTS) {
        const [item, title, switchToList] = [list[0], list[titleIndex], list[3]];
        steps.push(...openMultichannel(`${MENU}_sale`, `${MENU}_${item}`));
        steps.push({
            content: `${title} is open`,
            trigger: `.o_breadcrumb:contains('${title}')`,
        });
        if (switchToList) {
            steps.push({
                content: `${title} as a list`,
                trigger: ".o_switch_view.o_list",
                run: "click",
            });
        }
        steps.push({
            content: `No header of ${title} is cut off`,
            trigger: ".o_list_view .o_list_renderer thead th[data-name]",
            run() {
                const labels = cutOffHeaders();
                if (labels.length) {
                    cut.push(`${title}: ${labels.join(", ")}`);
                }
            },
        });
    }
    steps.push({
        content: "Every column header reads in full",
        trigger: ".o_list_view",
        run() {
            if (cut.length) {
                throw new Error(`Column headers cut off — ${cut.join("; ")}`);
            }
        },
    });
    return steps;
}

registry.category("web_tour.tours").add("stock_multichannel_report_headers", {
    steps: () => reportHeaderSteps(1),
});

registry.category("web_tour.tours").add("stock_multichannel_report_headers_ro", {
    steps: () => reportHeaderSteps(2),
});
