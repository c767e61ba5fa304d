use super::*;
use crate::SchemaBuilder;

fn build(sql: &str) -> Schema {
    let mut b = SchemaBuilder::new();
    for s in odump_pgdump::split_statements(sql) {
        b.add_statement(None, &s);
    }
    b.finish()
}

/// `(kind, object, action)` of each change.
fn kao(changes: &[Change]) -> Vec<(&str, &str, Action)> {
    changes
        .iter()
        .map(|c| (c.kind.as_str(), c.object.as_str(), c.action))
        .collect()
}

const BASE: &str = "
CREATE TYPE public.state AS ENUM ('draft', 'done');
CREATE SEQUENCE public.t_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE public.t (id integer NOT NULL, name character varying(64), code text, qty integer, state public.state, data jsonb);
ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id;
ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.t_id_seq'::regclass);
ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);
CREATE INDEX t_name_idx ON public.t USING btree (name);
CREATE FUNCTION public.f(a integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT a $$;
CREATE VIEW public.v AS SELECT t.id FROM public.t;
CREATE TRIGGER t_trg AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();
COMMENT ON COLUMN public.t.name IS 'Name';
ALTER TABLE public.t OWNER TO odoo;
GRANT SELECT ON TABLE public.t TO reporting;
CREATE TABLE public.gone (id integer, label text);
CREATE INDEX gone_label ON public.gone USING btree (label);
COMMENT ON TABLE public.gone IS 'Gone';
";

#[test]
fn identical_schemas_have_no_changes() {
    let a = build(BASE);
    let opts = DiffOptions {
        include_owners: true,
        include_grants: true,
        ..DiffOptions::default()
    };
    assert!(diff(&a, &a.clone(), &opts).is_empty());
}

#[test]
fn reports_each_kind_of_change_with_hazards() {
    let a = build(BASE);
    let b = build(
        &BASE
            .replace("('draft', 'done')", "('draft', 'sent', 'done')")
            .replace("INCREMENT BY 1", "INCREMENT BY 10")
            .replace("name character varying(64)", "name character varying(32)")
            .replace("code text", "code integer")
            .replace("qty integer", "qty integer NOT NULL")
            .replace("data jsonb", "data text")
            .replace("DEFAULT 1)", "DEFAULT 2)")
            .replace("SELECT t.id FROM", "SELECT t.id, t.name FROM")
            .replace("AFTER INSERT", "AFTER UPDATE")
            .replace("IS 'Name'", "IS 'Label'")
            .replace("USING btree (name)", "USING hash (name)")
            .replace("TO odoo", "TO admin")
            .replace("SELECT ON TABLE public.t", "ALL ON TABLE public.t"),
    );
    let changes = diff(&a, &b, &DiffOptions::default());
    assert_eq!(
        kao(&changes),
        [
            ("function", "public.f(integer)", Action::Changed),
            ("type", "public.state", Action::Changed),
            ("column", "public.t.code", Action::Changed),
            ("column", "public.t.data", Action::Changed),
            ("column", "public.t.name", Action::Changed),
            ("comment", "public.t.name", Action::Changed),
            ("column", "public.t.qty", Action::Changed),
            ("trigger", "public.t.t_trg", Action::Changed),
            ("sequence", "public.t_id_seq", Action::Changed),
            ("index", "public.t_name_idx", Action::Changed),
            ("view", "public.v", Action::Changed),
        ]
    );
    let get = |object: &str, kind: &str| {
        changes
            .iter()
            .find(|c| c.object == object && c.kind == kind)
            .unwrap()
    };
    let f = get("public.f(integer)", "function");
    assert_eq!(
        (f.before.as_deref(), f.after.as_deref()),
        (
            Some("(a integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE"),
            Some("(a integer DEFAULT 2) RETURNS integer LANGUAGE sql IMMUTABLE")
        )
    );
    let ty = get("public.state", "type");
    assert_eq!(ty.after.as_deref(), Some("ENUM ('draft', 'sent', 'done')"));
    assert_eq!(ty.hazard, None);
    let hazard = |object: &str| get(object, "column").hazard.as_deref();
    assert_eq!(hazard("public.t.name"), Some("type-narrowing"));
    assert_eq!(hazard("public.t.code"), Some("lossy-type-change"));
    assert_eq!(hazard("public.t.data"), Some("lossy-type-change"));
    assert_eq!(hazard("public.t.qty"), Some("not-null-added"));
    assert!(get("public.t_id_seq", "sequence")
        .after
        .as_deref()
        .unwrap()
        .contains("INCREMENT BY 10"));

    // Owners and grants only when asked.
    let all = diff(
        &a,
        &b,
        &DiffOptions {
            include_owners: true,
            include_grants: true,
            ..DiffOptions::default()
        },
    );
    let extra: Vec<_> = kao(&all)
        .into_iter()
        .filter(|(k, _, _)| matches!(*k, "owner" | "grant"))
        .collect();
    assert_eq!(
        extra,
        [
            ("grant", "public.t", Action::Changed),
            ("owner", "public.t", Action::Changed)
        ]
    );
}

#[test]
fn dropped_tables_and_columns_are_data_loss_unless_empty() {
    let a = build(BASE);
    let b = build(
        &BASE
            .replace("CREATE TABLE public.gone (id integer, label text);", "")
            .replace(
                "CREATE INDEX gone_label ON public.gone USING btree (label);",
                "",
            )
            .replace("COMMENT ON TABLE public.gone IS 'Gone';", "")
            .replace(", data jsonb", ""),
    );
    let changes = diff(&a, &b, &DiffOptions::default());
    // The table's index and comment are folded into the table's removal.
    assert_eq!(
        kao(&changes),
        [
            ("table", "public.gone", Action::Removed),
            ("column", "public.t.data", Action::Removed),
        ]
    );
    assert!(changes
        .iter()
        .all(|c| c.hazard.as_deref() == Some(DATA_LOSS)));
    assert_eq!(
        changes[0].before.as_deref(),
        Some("(id integer, label text)")
    );

    let rows = DiffOptions {
        rows_before: [("public.gone".to_string(), 0), ("public.t".to_string(), 7)]
            .into_iter()
            .collect(),
        ..DiffOptions::default()
    };
    let changes = diff(&a, &b, &rows);
    assert_eq!(changes[0].hazard, None, "an empty table loses nothing");
    assert_eq!(changes[1].hazard.as_deref(), Some(DATA_LOSS));
}

#[test]
fn renames_get_hints() {
    let a = build(BASE);
    let b = build(
        &BASE
            .replace("name character varying(64)", "title character varying(64)")
            .replace("public.gone", "public.went"),
    );
    let changes = diff(&a, &b, &DiffOptions::default());
    let hints: Vec<_> = changes
        .iter()
        .filter(|c| c.kind != "comment" && c.kind != "index")
        .map(|c| (c.object.as_str(), c.action, c.hint.as_deref()))
        .collect();
    assert_eq!(
        hints,
        [
            (
                "public.gone",
                Action::Removed,
                Some("possibly renamed to public.went")
            ),
            (
                "public.t.name",
                Action::Removed,
                Some("possibly renamed to public.t.title")
            ),
            (
                "public.t.title",
                Action::Added,
                Some("possible rename of public.t.name")
            ),
            (
                "public.went",
                Action::Added,
                Some("possible rename of public.gone")
            ),
        ]
    );
}

#[test]
fn excluded_tables_are_left_out_with_everything_on_them() {
    let a = build(BASE);
    let b = build(
        &BASE
            .replace("name character varying(64)", "name text")
            .replace("IS 'Name'", "IS 'N'"),
    );
    let opts = DiffOptions {
        exclude_tables: vec!["t*".into()],
        ..DiffOptions::default()
    };
    assert!(diff(&a, &b, &opts).is_empty());
    let opts = DiffOptions {
        exclude_tables: vec!["public.x*".into()],
        ..DiffOptions::default()
    };
    assert_eq!(diff(&a, &b, &opts).len(), 2);
}

#[test]
fn constraints_opaque_and_partitions() {
    let a = build(
        "CREATE TABLE public.p (id integer, d date) PARTITION BY RANGE (d);
         CREATE TABLE public.p1 (id integer, d date);
         ALTER TABLE ONLY public.p ATTACH PARTITION public.p1 FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         ALTER TABLE ONLY public.p1 ADD CONSTRAINT p1_fk FOREIGN KEY (id) REFERENCES public.p1(id);
         CREATE TEXT SEARCH DICTIONARY public.d (TEMPLATE = pg_catalog.simple);",
    );
    let b = build(
        "CREATE TABLE public.p (id integer, d date) PARTITION BY RANGE (d);
         CREATE TABLE public.p1 (id integer, d date);
         ALTER TABLE ONLY public.p ATTACH PARTITION public.p1 FOR VALUES FROM ('2020-01-01') TO ('2022-01-01');
         ALTER TABLE ONLY public.p1 ADD CONSTRAINT p1_fk FOREIGN KEY (id) REFERENCES public.p1(id) ON DELETE CASCADE;
         CREATE TEXT SEARCH DICTIONARY public.d (TEMPLATE = pg_catalog.english_stem);",
    );
    let changes = diff(&a, &b, &DiffOptions::default());
    assert_eq!(
        kao(&changes),
        [
            (
                "opaque",
                "CREATE TEXT SEARCH DICTIONARY public.d (TEMPLATE = pg_catalog.english_stem)",
                Action::Added
            ),
            (
                "opaque",
                "CREATE TEXT SEARCH DICTIONARY public.d (TEMPLATE = pg_catalog.simple)",
                Action::Removed
            ),
            ("table", "public.p1", Action::Changed),
            ("constraint", "public.p1.p1_fk", Action::Changed),
        ]
    );
}

#[test]
fn serializes_per_the_contract() {
    let a = build("CREATE TABLE public.t (id integer, x text);");
    let b = build("CREATE TABLE public.t (id integer);");
    let json = serde_json::to_value(diff(&a, &b, &DiffOptions::default())).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{
            "kind": "column",
            "object": "public.t.x",
            "action": "removed",
            "before": "text",
            "after": null,
            "hazard": "data-loss",
            "hint": null,
        }])
    );
}

/// Statements making a table of `n` integer columns `c0 … c{n-1}`, with a comment, a default,
/// `NOT NULL`, a setting and a primary key on its last columns.
fn wide_table(n: usize) -> String {
    let cols: Vec<String> = (0..n).map(|i| format!("c{i} integer")).collect();
    let last = |k: usize| n - 1 - k;
    format!(
        "CREATE TABLE public.wide ({});
         COMMENT ON COLUMN public.wide.c{} IS 'late';
         ALTER TABLE ONLY public.wide ALTER COLUMN c{} SET DEFAULT 0;
         ALTER TABLE ONLY public.wide ALTER COLUMN c{} SET NOT NULL;
         ALTER TABLE ONLY public.wide ALTER COLUMN c{} SET STATISTICS 100;
         ALTER TABLE ONLY public.wide ADD CONSTRAINT wide_pkey PRIMARY KEY (c{});",
        cols.join(", "),
        last(1),
        last(0),
        last(2),
        last(0),
        last(2),
    )
}

/// 100,000 columns: building and diffing find each column by name rather than by a scan (which
/// took minutes here), keep dump order, and give the exact result.
#[test]
fn a_table_of_100000_columns_builds_and_diffs_exactly() {
    const N: usize = 100_000;
    let a = build(&wide_table(N));
    let t = &a.tables["public.wide"];
    assert_eq!(t.columns.len(), N);
    assert_eq!(
        (t.columns[0].name.as_str(), t.columns[N - 1].name.as_str()),
        ("c0", "c99999"),
        "dump order is kept"
    );
    assert_eq!(t.columns.position("c99999"), Some(N - 1));
    assert_eq!(
        t.column("c99999").unwrap().render(),
        "integer DEFAULT 0 SET STATISTICS 100"
    );
    assert_eq!(t.column("c99997").unwrap().render(), "integer NOT NULL");
    assert_eq!(t.column("c99996").unwrap().render(), "integer");
    assert_eq!(a.comments["column public.wide.c99998"].text, "late");
    assert_eq!(t.constraints["wide_pkey"].columns, ["c99997"]);

    // A copy with one late column narrowed, replaced where it stands: exactly that change.
    let mut b = a.clone();
    let wide = b.tables.get_mut("public.wide").unwrap();
    let mut col = wide.column("c99990").unwrap().clone();
    col.data_type = "smallint".into();
    assert_eq!(wide.columns.insert(col), N - 10);
    assert_eq!(wide.columns.len(), N);
    assert_eq!(wide.columns[N - 10].data_type, "smallint");
    assert_eq!(
        diff(&a, &b, &DiffOptions::default()),
        [Change {
            kind: "column".into(),
            object: "public.wide.c99990".into(),
            action: Action::Changed,
            before: Some("integer".into()),
            after: Some("smallint".into()),
            hazard: Some(crate::TYPE_NARROWING.into()),
            hint: None,
        }]
    );
}

/// `unique_pairs` pairs exactly as `rename_pairs` does with a score of 1 between equal keys.
#[test]
fn unique_pairs_agree_with_rename_pairs() {
    let names = ["a", "b", "c", "d", "e", "f"];
    // Every assignment of keys 0..3 to three removed and three added objects.
    for code in 0..3usize.pow(6) {
        let keys: Vec<usize> = (0..6).map(|i| code / 3usize.pow(i) % 3).collect();
        let removed: Vec<(&str, &usize)> = (0..3).map(|i| (names[i], &keys[i])).collect();
        let added: Vec<(&str, &usize)> = (3..6).map(|i| (names[i], &keys[i])).collect();
        let slow = rename_pairs(&removed, &added, |x, y| (x == y).then_some(1));
        let fast = unique_pairs(&removed, &added, |k: &usize| *k);
        assert_eq!(fast, slow, "keys {keys:?}");
    }
}

#[test]
fn table_rename_hints_are_not_searched_among_too_many_tables() {
    let tables = |prefix: &str, n: usize| {
        (0..n)
            .map(|i| format!("CREATE TABLE public.{prefix}{i} (id integer, v{i} text);\n"))
            .collect::<String>()
    };
    // Few tables: the one alike is hinted.
    let hinted = diff(
        &build(&tables("old", 3)),
        &build(&tables("new", 3)),
        &DiffOptions::default(),
    );
    assert!(
        hinted.iter().any(|c| c.hint.is_some()),
        "{:?}",
        kao(&hinted)
    );
    // Past the limit: every table is still reported, without hints.
    let n = 1001;
    let changes = diff(
        &build(&tables("old", n)),
        &build(&tables("new", n)),
        &DiffOptions::default(),
    );
    assert_eq!(changes.len(), 2 * n);
    assert!(changes.iter().all(|c| c.hint.is_none()));
}
