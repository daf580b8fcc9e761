{
    "name": "Học bạ số - dữ liệu mẫu (demo)",
    "summary": "The demo school of hocba_digital, with its DEMO certificate authority, "
    "population database and transcript store served by the database itself",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "website": "https://github.com/hocba-digital/hocba_digital",
    "author": "hocba_digital developers",
    "license": "LGPL-3",
    "installable": True,
    "auto_install": False,
    "depends": ["hocba_digital"],
    "data": [
        "views/hocba_reconciliation_views.xml",
    ],
    "demo": [
        "demo/hocba_demo.xml",
        "demo/hocba_certificate_cost_demo.xml",
    ],
}
