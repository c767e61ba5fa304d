//! The schema model and diff over real `pg_dump` output of databases with known content.

use std::path::Path;

use odump_schema::{diff, Action, DiffOptions, Schema, SchemaBuilder};
use odump_testpg::{fixtures, DumpKind};

fn load(path: &Path) -> Schema {
    let input = odump_io::open(path.to_str().expect("utf-8 path")).expect("open");
    let mut b = SchemaBuilder::new();
    odump_pgdump::read_dump(input, &mut b).expect("read");
    b.finish()
}

#[test]
fn kitchen_sink_dump_builds_with_what_the_catalogs_say() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = odump_testpg::unique_db_name("schema_ks");
    pg.create_db(&db, &fixtures::kitchen_sink());
    let out = tempfile::tempdir().unwrap();
    let s = load(&pg.dump(&db, DumpKind::Plain, out.path()));
    println!("opaque: {:?}", s.opaque);
    let count = |sql: &str| pg.query(&db, sql).trim().parse::<usize>().unwrap();
    let user = "n.nspname IN ('public', 'sales')";
    assert_eq!(
        s.tables.len(),
        count(&format!("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND {user}"))
    );
    assert_eq!(
        s.indexes.len(),
        count(&format!("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {user} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"))
    );
    let constraints: usize = s.tables.values().map(|t| t.constraints.len()).sum();
    assert_eq!(
        constraints,
        count(&format!("SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE {user} AND k.contype IN ('p', 'u', 'f', 'c', 'x') AND k.conrelid <> 0 AND NOT k.conislocal = false"))
    );
    assert_eq!(
        s.sequences.len(),
        count(&format!("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND {user}"))
    );
    assert_eq!(
        s.functions.len(),
        count(&format!("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {user}"))
    );
    assert_eq!(s.views.len(), 3);
    assert!(s.views["public.not_populated"].materialized);
    assert_eq!(s.triggers.len(), 1);
    let ident = &s.sequences["public.ident_always_id_seq"];
    assert_eq!((ident.start, ident.increment), (Some(10), 10));
    assert_eq!(ident.owned_by.as_deref(), Some("public.ident_always.id"));
    assert_eq!(
        s.tables["public.measurements_2023"]
            .partition_of
            .as_ref()
            .unwrap()
            .parent,
        "public.measurements"
    );
    // Only the text search configuration is kept as text.
    let kinds: Vec<_> = s.opaque_kinds().into_iter().collect();
    assert_eq!(kinds, [("TEXT SEARCH CONFIGURATION", 1)]);

    // Every format of one database gives the same model.
    for kind in [DumpKind::CustomPipe, DumpKind::Directory] {
        let other = load(&pg.dump(&db, kind, out.path()));
        let opts = DiffOptions {
            include_owners: true,
            include_grants: true,
            ..Default::default()
        };
        let changes = diff(&s, &other, &opts);
        assert!(changes.is_empty(), "{kind:?}: {changes:#?}");
    }
}

#[test]
fn known_changes_are_reported_exactly() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let a = odump_testpg::unique_db_name("schema_a");
    let b = odump_testpg::unique_db_name("schema_b");
    pg.create_db(&a, &fixtures::kitchen_sink());
    pg.create_db(&b, &fixtures::kitchen_sink());
    let role = odump_testpg::unique_db_name("owner");
    pg.exec(
        &b,
        &format!("CREATE ROLE {role}; ALTER TABLE public.notes OWNER TO {role}"),
    );
    pg.exec(
        &b,
        "ALTER TYPE public.mood ADD VALUE 'ecstatic';
         CREATE OR REPLACE FUNCTION public.add_one(i integer DEFAULT 0) RETURNS integer
             LANGUAGE sql IMMUTABLE AS $$ SELECT i + 1; $$;
         ALTER SEQUENCE public.invoice_number_seq INCREMENT BY 10;
         ALTER TABLE sales.customers ALTER COLUMN email TYPE varchar(100);
         ALTER TABLE sales.notes RENAME COLUMN author TO written_by;
         CREATE TABLE public.measurements_2025 PARTITION OF public.measurements
             FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         ALTER TABLE public.empty_table DROP COLUMN note;
         ALTER TABLE public.empty_table ADD COLUMN created date NOT NULL DEFAULT '2024-01-01';
         DROP INDEX sales.orders_draft_idx;
         CREATE INDEX orders_mood_idx ON sales.orders (mood);
         ALTER TABLE sales.orders DROP CONSTRAINT orders_status_check;
         ALTER TABLE sales.orders ADD CONSTRAINT orders_status_check CHECK (status IN ('draft', 'confirmed', 'done', 'cancel'));
         CREATE OR REPLACE VIEW sales.order_totals AS
             SELECT o.id, o.reference, public.order_total(o.id) AS total, o.status FROM sales.orders o;
         COMMENT ON TABLE public.big IS 'Big';
         DROP TRIGGER orders_bump_revision ON sales.orders;
         CREATE TRIGGER orders_bump_revision BEFORE UPDATE OF status ON sales.orders
             FOR EACH ROW EXECUTE FUNCTION sales.bump_revision();
         DROP TABLE public.bookings;
         ALTER TABLE sales.order_lines ALTER COLUMN qty SET STATISTICS 200;",
    );
    let out = tempfile::tempdir().unwrap();
    let before = load(&pg.dump(&a, DumpKind::Plain, out.path()));
    for kind in [DumpKind::Plain, DumpKind::CustomPipe] {
        let after = load(&pg.dump(&b, kind, out.path()));
        let changes = diff(&before, &after, &DiffOptions::default());
        let got: Vec<_> = changes
            .iter()
            .map(|c| (c.kind.as_str(), c.object.as_str(), c.action))
            .collect();
        assert_eq!(
            got,
            [
                ("function", "public.add_one(integer)", Action::Changed),
                ("comment", "public.big", Action::Added),
                ("table", "public.bookings", Action::Removed),
                ("column", "public.empty_table.created", Action::Added),
                ("column", "public.empty_table.note", Action::Removed),
                ("sequence", "public.invoice_number_seq", Action::Changed),
                ("table", "public.measurements_2025", Action::Added),
                ("type", "public.mood", Action::Changed),
                ("column", "sales.customers.email", Action::Changed),
                ("column", "sales.notes.author", Action::Removed),
                ("column", "sales.notes.written_by", Action::Added),
                ("column", "sales.order_lines.qty", Action::Changed),
                ("view", "sales.order_totals", Action::Changed),
                // Dropping the trigger and the constraint dropped their comments.
                (
                    "comment",
                    "sales.orders.orders_bump_revision",
                    Action::Removed
                ),
                (
                    "trigger",
                    "sales.orders.orders_bump_revision",
                    Action::Changed
                ),
                (
                    "comment",
                    "sales.orders.orders_status_check",
                    Action::Removed
                ),
                (
                    "constraint",
                    "sales.orders.orders_status_check",
                    Action::Changed
                ),
                ("index", "sales.orders_draft_idx", Action::Removed),
                ("index", "sales.orders_mood_idx", Action::Added),
            ],
            "{kind:?}: {changes:#?}"
        );
        let get = |o: &str| changes.iter().find(|c| c.object == o).unwrap();
        assert_eq!(get("public.bookings").hazard.as_deref(), Some("data-loss"));
        assert_eq!(
            get("sales.customers.email").hazard.as_deref(),
            Some("type-narrowing")
        );
        assert_eq!(
            get("sales.notes.written_by").hint.as_deref(),
            Some("possible rename of sales.notes.author")
        );
        assert_eq!(
            get("public.mood").after.as_deref(),
            Some("ENUM ('sad', 'ok', 'happy', 'très bien', 'ecstatic')")
        );
        let owners = diff(
            &before,
            &after,
            &DiffOptions {
                include_owners: true,
                ..Default::default()
            },
        );
        let owner: Vec<_> = owners.iter().filter(|c| c.kind == "owner").collect();
        assert_eq!(owner.len(), 1, "{owner:?}");
        assert_eq!(
            (owner[0].object.as_str(), owner[0].after.as_deref()),
            ("public.notes", Some(role.as_str()))
        );
    }
}
