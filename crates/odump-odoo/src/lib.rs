//! odump-odoo
