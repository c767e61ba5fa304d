use super::*;
use crate::model::{ConstraintKind, Identity, TypeDef};

/// Builds a schema from a plain pg_dump script, read by the real plain reader.
pub(crate) fn build(script: &str) -> Schema {
    let text = format!("--\n-- PostgreSQL database dump\n--\n\n{script}");
    let input = odump_io::from_bytes("test.sql", text.into_bytes()).expect("open");
    let mut b = SchemaBuilder::new();
    odump_pgdump::read_dump(input, &mut b).expect("read");
    b.finish()
}

/// A TOC comment block the way pg_dump prints it.
fn toc(name: &str, kind: &str, schema: &str) -> String {
    format!("--\n-- Name: {name}; Type: {kind}; Schema: {schema}; Owner: odoo\n--\n\n")
}

#[test]
fn tables_columns_defaults_and_sequences() {
    let s = build(&format!(
        "SELECT pg_catalog.set_config('search_path', '', false);\n\
         {}CREATE TABLE public.res_partner (\n    id integer NOT NULL,\n    \
         name character varying(64) COLLATE pg_catalog.\"C\" NOT NULL,\n    \
         ratio numeric(10,2) DEFAULT 0.5,\n    note text DEFAULT NULL::text,\n    \
         total numeric GENERATED ALWAYS AS ((ratio * (2)::numeric)) STORED,\n    \
         CONSTRAINT res_partner_ratio_check CHECK ((ratio >= (0)::numeric))\n);\n\n\n\
         ALTER TABLE public.res_partner OWNER TO odoo;\n\n\
         {}CREATE SEQUENCE public.res_partner_id_seq\n    AS integer\n    START WITH 1\n    \
         INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n\n\
         {}ALTER SEQUENCE public.res_partner_id_seq OWNED BY public.res_partner.id;\n\n\
         {}ALTER TABLE ONLY public.res_partner ALTER COLUMN id SET DEFAULT \
         nextval('public.res_partner_id_seq'::regclass);\n\n\
         ALTER TABLE ONLY public.res_partner ALTER COLUMN name SET STATISTICS 500;\n\
         SELECT pg_catalog.setval('public.res_partner_id_seq', 42, true);\n",
        toc("res_partner", "TABLE", "public"),
        toc("res_partner_id_seq", "SEQUENCE", "public"),
        toc("res_partner_id_seq", "SEQUENCE OWNED BY", "public"),
        toc("res_partner id", "DEFAULT", "public"),
    ));
    let t = &s.tables["public.res_partner"];
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("{} {}", c.name, c.render()))
        .collect();
    assert_eq!(
        cols,
        [
            "id integer DEFAULT nextval('res_partner_id_seq'::regclass) NOT NULL",
            "name character varying(64) COLLATE \"C\" NOT NULL SET STATISTICS 500",
            "ratio numeric(10,2) DEFAULT 0.5",
            "note text DEFAULT NULL::text",
            "total numeric GENERATED ALWAYS AS ((ratio * (2)::numeric)) STORED",
        ]
    );
    assert_eq!(
        t.constraints["res_partner_ratio_check"].definition,
        "CHECK ((ratio >= (0)::numeric))"
    );
    let seq = &s.sequences["public.res_partner_id_seq"];
    assert_eq!(seq.data_type, "integer");
    assert_eq!(seq.owned_by.as_deref(), Some("public.res_partner.id"));
    assert_eq!(
        seq.render(),
        "AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1 OWNED BY public.res_partner.id"
    );
    assert_eq!(s.owners["relation public.res_partner"].owner, "odoo");
    assert_eq!(s.opaque_count(), 0, "{:?}", s.opaque);
    // set_config and setval.
    assert_eq!(s.noise_statements, 2);
}

#[test]
fn constraints_and_indexes() {
    let s = build(
        "CREATE TABLE public.a (id integer NOT NULL, b_id integer, code text, during tsrange);\n\
         CREATE TABLE public.b (id integer NOT NULL);\n\
         ALTER TABLE ONLY public.a\n    ADD CONSTRAINT a_pkey PRIMARY KEY (id);\n\
         ALTER TABLE ONLY public.a\n    ADD CONSTRAINT a_code_uniq UNIQUE (code, b_id);\n\
         ALTER TABLE ONLY public.a\n    ADD CONSTRAINT a_b_id_fkey FOREIGN KEY (b_id) REFERENCES public.b(id) ON DELETE CASCADE;\n\
         ALTER TABLE ONLY public.a\n    ADD CONSTRAINT a_excl EXCLUDE USING gist (during WITH &&);\n\
         ALTER TABLE public.a\n    ADD CONSTRAINT a_code_check CHECK ((code <> ''::text)) NOT VALID;\n\
         CREATE UNIQUE INDEX a_lower_code ON public.a USING btree (lower(code) text_pattern_ops, b_id DESC NULLS LAST) INCLUDE (id) WHERE (code IS NOT NULL);\n\
         CREATE INDEX a_code_trgm ON public.a USING gin (code public.gin_trgm_ops) WITH (fastupdate=off);\n\
         ALTER TABLE public.a CLUSTER ON a_lower_code;\n",
    );
    let a = &s.tables["public.a"];
    let pk = &a.constraints["a_pkey"];
    assert_eq!(
        (pk.kind, pk.columns.as_slice()),
        (ConstraintKind::PrimaryKey, &["id".to_string()][..])
    );
    assert_eq!(a.constraints["a_code_uniq"].columns, ["code", "b_id"]);
    let fk = &a.constraints["a_b_id_fkey"];
    let r = fk.references.as_ref().unwrap();
    assert_eq!(
        (r.table.as_str(), r.on_delete.as_str(), r.on_update.as_str()),
        ("public.b", "CASCADE", "NO ACTION")
    );
    assert_eq!(
        fk.definition,
        "FOREIGN KEY (b_id) REFERENCES b(id) ON DELETE CASCADE"
    );
    assert_eq!(a.constraints["a_excl"].kind, ConstraintKind::Exclusion);
    assert_eq!(
        a.constraints["a_code_check"].definition,
        "CHECK ((code <> ''::text)) NOT VALID"
    );
    let i = &s.indexes["public.a_lower_code"];
    assert!(i.unique);
    assert_eq!(
        i.keys,
        ["lower(code) text_pattern_ops", "b_id DESC NULLS LAST"]
    );
    assert_eq!(i.include, ["id"]);
    assert_eq!(i.predicate.as_deref(), Some("(code IS NOT NULL)"));
    let g = &s.indexes["public.a_code_trgm"];
    assert_eq!(
        (g.method.as_str(), g.keys[0].as_str()),
        ("gin", "code gin_trgm_ops")
    );
    assert_eq!(g.options.as_deref(), Some("WITH (fastupdate=off)"));
    assert_eq!(a.cluster_on.as_deref(), Some("a_lower_code"));
    assert_eq!(s.opaque_count(), 0, "{:?}", s.opaque);
}

#[test]
fn partitions_inheritance_and_identity() {
    let s = build(
        "CREATE TABLE public.m (id bigint NOT NULL, d date NOT NULL) PARTITION BY RANGE (d);\n\
         CREATE TABLE public.m_2024 (id bigint NOT NULL, d date NOT NULL);\n\
         ALTER TABLE ONLY public.m ATTACH PARTITION public.m_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n\
         CREATE TABLE public.m_old PARTITION OF public.m FOR VALUES FROM (MINVALUE) TO ('2024-01-01');\n\
         CREATE TABLE public.child (extra text) INHERITS (public.m_2024);\n\
         CREATE INDEX m_d_idx ON ONLY public.m USING btree (d);\n\
         CREATE INDEX m_2024_d_idx ON public.m_2024 USING btree (d);\n\
         ALTER INDEX public.m_d_idx ATTACH PARTITION public.m_2024_d_idx;\n\
         CREATE TABLE public.ident (id integer NOT NULL, v text);\n\
         ALTER TABLE public.ident ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (\n    \
         SEQUENCE NAME public.ident_id_seq\n    START WITH 1\n    INCREMENT BY 5\n    \
         NO MINVALUE\n    NO MAXVALUE\n    CACHE 1\n);\n",
    );
    assert_eq!(
        s.tables["public.m"].partition_by.as_deref(),
        Some("RANGE (d)")
    );
    let p = s.tables["public.m_2024"].partition_of.as_ref().unwrap();
    assert_eq!(
        (p.parent.as_str(), p.bound.as_str()),
        (
            "public.m",
            "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"
        )
    );
    let old = &s.tables["public.m_old"];
    assert_eq!(
        old.columns.len(),
        2,
        "a PARTITION OF table takes its parent's columns"
    );
    assert_eq!(
        old.partition_of.as_ref().unwrap().bound,
        "FOR VALUES FROM (MINVALUE) TO ('2024-01-01')"
    );
    assert_eq!(s.tables["public.child"].inherits, ["public.m_2024"]);
    assert_eq!(
        s.indexes["public.m_2024_d_idx"].attached_to.as_deref(),
        Some("public.m_d_idx")
    );
    let id = s.tables["public.ident"].column("id").unwrap();
    assert_eq!(id.identity, Some(Identity::Always));
    let seq = &s.sequences["public.ident_id_seq"];
    assert_eq!((seq.increment, seq.data_type.as_str()), (5, "integer"));
    assert_eq!(seq.owned_by.as_deref(), Some("public.ident.id"));
    assert_eq!(s.opaque_count(), 0, "{:?}", s.opaque);
}

#[test]
fn types_domains_extensions_schemas() {
    let s = build(
        "CREATE SCHEMA extra;\n\
         CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;\n\
         COMMENT ON EXTENSION pg_trgm IS 'text similarity';\n\
         CREATE TYPE public.mood AS ENUM (\n    'sad',\n    'ok',\n    'it''s fine'\n);\n\
         CREATE TYPE extra.pair AS (\n\tx integer,\n\ty text COLLATE pg_catalog.\"C\"\n);\n\
         CREATE TYPE public.floatrange AS RANGE (\n    subtype = double precision,\n    subtype_diff = float8mi\n);\n\
         CREATE DOMAIN public.posint AS integer DEFAULT 1 NOT NULL\n\tCONSTRAINT posint_check CHECK ((VALUE > 0));\n\
         ALTER DOMAIN public.posint\n    ADD CONSTRAINT posint_small CHECK ((VALUE < 1000)) NOT VALID;\n\
         ALTER TYPE public.mood OWNER TO odoo;\n",
    );
    assert!(s.schemas.contains("extra"));
    assert_eq!(s.extensions["pg_trgm"].schema.as_deref(), Some("public"));
    assert_eq!(s.comments["extension pg_trgm"].text, "text similarity");
    assert_eq!(
        s.types["public.mood"],
        TypeDef::Enum(vec!["sad".into(), "ok".into(), "it's fine".into()])
    );
    assert_eq!(
        s.types["extra.pair"].render(),
        "(x integer, y text COLLATE \"C\")"
    );
    assert!(
        matches!(&s.types["public.floatrange"], TypeDef::Other(t) if t.starts_with("AS RANGE (subtype = double precision"))
    );
    let d = &s.domains["public.posint"];
    assert_eq!(d.render(), "integer DEFAULT 1 NOT NULL CONSTRAINT posint_check CHECK ((VALUE > 0)) CONSTRAINT posint_small CHECK ((VALUE < 1000)) NOT VALID");
    assert_eq!(s.owners["type public.mood"].owner, "odoo");
    assert_eq!(s.opaque_count(), 0, "{:?}", s.opaque);
}

#[test]
fn views_and_materialized_views() {
    let s = build(
        "CREATE TABLE public.t (id integer);\n\
         CREATE VIEW public.v AS\nSELECT\n    NULL::integer AS id;\n\
         CREATE MATERIALIZED VIEW public.mv AS\n SELECT t.id\n   FROM public.t\n  WITH NO DATA;\n\
         CREATE OR REPLACE VIEW public.v AS\n SELECT t.id\n   FROM public.t\n  WHERE (t.id > 0);\n\
         CREATE VIEW public.sb WITH (security_barrier='true') AS\n SELECT 1 AS one;\n\
         ALTER VIEW public.v OWNER TO odoo;\n\
         ALTER MATERIALIZED VIEW public.mv OWNER TO odoo;\n\
         COMMENT ON MATERIALIZED VIEW public.mv IS 'cached';\n\
         REFRESH MATERIALIZED VIEW public.mv;\n",
    );
    assert_eq!(
        s.views["public.v"].definition,
        "SELECT t.id FROM t WHERE (t.id > 0)"
    );
    let mv = &s.views["public.mv"];
    assert!(mv.materialized);
    assert_eq!(mv.definition, "SELECT t.id FROM t");
    assert_eq!(
        s.views["public.sb"].options.as_deref(),
        Some("security_barrier='true'")
    );
    assert_eq!(s.owners["relation public.mv"].owner, "odoo");
    assert_eq!(s.comments["relation public.mv"].text, "cached");
    assert_eq!(s.opaque_count(), 0, "{:?}", s.opaque);

    // Old dumps broke view dependency loops with a placeholder table and a `_RETURN` rule.
    let s = build(
        "SET search_path = public, pg_catalog;\n\
         CREATE TABLE loop_v (id integer, exclude text);\n\
         CREATE RULE \"_RETURN\" AS\n    ON SELECT TO loop_v DO INSTEAD  SELECT 1 AS id, 'x'::text AS exclude;\n",
    );
    assert!(s.tables.is_empty());
    assert_eq!(
        s.views["public.loop_v"].definition,
        "SELECT 1 AS id, 'x'::text AS exclude"
    );
}

#[test]
fn functions_and_procedures() {
    let s = build(
        "CREATE FUNCTION public.add(a integer, b integer DEFAULT 1, OUT total integer) RETURNS integer\n    \
         LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE\n    SET search_path TO 'public', 'pg_temp'\n    \
         AS $$\nBEGIN\n    total := a +   b;\nEND;\n$$;\n\
         ALTER FUNCTION public.add(a integer, b integer, OUT total integer) OWNER TO odoo;\n\
         COMMENT ON FUNCTION public.add(a integer, b integer, OUT total integer) IS 'adds';\n\
         CREATE FUNCTION public.rows(character varying, double precision) RETURNS TABLE(x integer, y text)\n    \
         LANGUAGE sql STABLE\n    BEGIN ATOMIC\n SELECT 1, 'a'::text;\nEND;\n\
         CREATE PROCEDURE public.tidy(IN days integer, INOUT n bigint)\n    LANGUAGE plpgsql\n    \
         AS $_$ BEGIN DELETE FROM t WHERE d < now() - $1 * interval '1 day'; END $_$;\n\
         COMMENT ON PROCEDURE public.tidy(IN days integer, INOUT n bigint) IS 'cleans';\n\
         CREATE FUNCTION public.trg() RETURNS trigger\n    LANGUAGE plpgsql SECURITY DEFINER\n    \
         AS $$begin return new; end$$;\n\
         GRANT ALL ON FUNCTION public.trg() TO reporting;\n",
    );
    let add = &s.functions["public.add(integer, integer)"];
    assert_eq!(
        add.render_header(),
        "(a integer, b integer DEFAULT 1, OUT total integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE \
         STRICT PARALLEL SAFE SET search_path TO 'public', 'pg_temp'"
    );
    assert_eq!(add.body, "BEGIN total := a + b; END;");
    assert_eq!(
        s.owners["routine public.add(integer, integer)"].owner,
        "odoo"
    );
    assert_eq!(
        s.comments["routine public.add(integer, integer)"].text,
        "adds"
    );
    let rows = &s.functions["public.rows(character varying, double precision)"];
    assert_eq!(rows.returns.as_deref(), Some("TABLE(x integer, y text)"));
    assert_eq!(rows.body, "BEGIN ATOMIC SELECT 1, 'a'::text; END");
    let tidy = &s.functions["public.tidy(integer, bigint)"];
    assert!(tidy.procedure);
    assert_eq!(tidy.args[1].mode.as_deref(), Some("INOUT"));
    assert_eq!(
        s.comments["routine public.tidy(integer, bigint)"].text,
        "cleans"
    );
    assert_eq!(s.functions["public.trg()"].attributes, ["SECURITY DEFINER"]);
    assert_eq!(
        s.grants["routine public.trg()"].statements,
        ["GRANT ALL ON FUNCTION trg() TO reporting"]
    );
    assert_eq!(s.opaque_count(), 0, "{:?}", s.opaque);
}

#[test]
fn triggers_rules_policies_and_comments() {
    let s = build(
        "CREATE TABLE public.t (id integer, owner text);\n\
         CREATE TRIGGER t_audit BEFORE INSERT OR UPDATE OF id ON public.t FOR EACH ROW WHEN ((new.id > 0)) EXECUTE FUNCTION public.trg();\n\
         CREATE CONSTRAINT TRIGGER t_check AFTER INSERT ON public.t DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE PROCEDURE public.trg();\n\
         CREATE RULE t_protect AS\n    ON DELETE TO public.t DO INSTEAD NOTHING;\n\
         ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;\n\
         CREATE POLICY t_own ON public.t FOR SELECT TO PUBLIC USING ((owner = CURRENT_USER));\n\
         COMMENT ON TABLE public.t IS 'T';\n\
         COMMENT ON COLUMN public.t.id IS E'the \\'id\\'';\n\
         COMMENT ON TRIGGER t_audit ON public.t IS 'audit';\n\
         COMMENT ON POLICY t_own ON public.t IS 'own rows';\n\
         GRANT SELECT(id) ON TABLE public.t TO reporting;\n\
         REVOKE ALL ON TABLE public.t FROM PUBLIC;\n",
    );
    assert_eq!(
        s.triggers["public.t.t_audit"].definition,
        "BEFORE INSERT OR UPDATE OF id ON t FOR EACH ROW WHEN ((new.id > 0)) EXECUTE FUNCTION trg()"
    );
    assert!(s.triggers["public.t.t_check"]
        .definition
        .starts_with("CONSTRAINT AFTER INSERT ON t"));
    assert!(s.triggers["public.t.t_check"]
        .definition
        .ends_with("EXECUTE FUNCTION trg()"));
    assert_eq!(
        s.rules["public.t.t_protect"].definition,
        "AS ON DELETE TO t DO INSTEAD NOTHING"
    );
    assert_eq!(s.policies["public.t.t_own"].table, "public.t");
    assert!(s.tables["public.t"].row_security);
    assert_eq!(s.comments["relation public.t"].text, "T");
    assert_eq!(s.comments["column public.t.id"].text, "the 'id'");
    assert_eq!(s.comments["trigger public.t.t_audit"].text, "audit");
    assert_eq!(s.comments["policy public.t.t_own"].text, "own rows");
    assert_eq!(s.grants["relation public.t"].statements.len(), 2);
    assert_eq!(s.opaque_count(), 0, "{:?}", s.opaque);
}

#[test]
fn old_style_names_resolve_like_modern_ones() {
    let old = build(
        "SET search_path = public, pg_catalog;\n\
         CREATE TYPE mood AS ENUM ('a');\n\
         CREATE TABLE t (id integer NOT NULL, m mood, h hstore);\n\
         CREATE SEQUENCE t_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;\n\
         ALTER SEQUENCE t_id_seq OWNED BY t.id;\n\
         ALTER TABLE ONLY t ALTER COLUMN id SET DEFAULT nextval('t_id_seq'::regclass);\n\
         ALTER TABLE ONLY t ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n\
         CREATE VIEW v AS SELECT t.id FROM t;\n\
         CREATE FUNCTION f(x mood) RETURNS integer LANGUAGE sql AS $$ select 1 $$;\n\
         CREATE TRIGGER t_trg AFTER INSERT ON t FOR EACH ROW EXECUTE PROCEDURE f();\n\
         COMMENT ON COLUMN t.id IS 'Id';\n\
         ALTER TABLE t OWNER TO odoo;\n",
    );
    let new = build(
        "SELECT pg_catalog.set_config('search_path', '', false);\n\
         CREATE TYPE public.mood AS ENUM ('a');\n\
         CREATE TABLE public.t (id integer NOT NULL, m public.mood, h public.hstore);\n\
         CREATE SEQUENCE public.t_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;\n\
         ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id;\n\
         ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.t_id_seq'::regclass);\n\
         ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n\
         CREATE VIEW public.v AS SELECT t.id FROM public.t;\n\
         CREATE FUNCTION public.f(x public.mood) RETURNS integer LANGUAGE sql AS $$ select 1 $$;\n\
         CREATE TRIGGER t_trg AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();\n\
         COMMENT ON COLUMN public.t.id IS 'Id';\n\
         ALTER TABLE public.t OWNER TO odoo;\n",
    );
    assert_eq!(
        old,
        Schema {
            noise_statements: new.noise_statements,
            ..old.clone()
        }
    );
    assert_eq!(
        old.tables["public.t"].column("m").unwrap().data_type,
        "public.mood"
    );
    assert!(old.functions.contains_key("public.f(public.mood)"));
}

#[test]
fn unknown_statements_are_kept_as_opaque_text() {
    let s = build(&format!(
        "{}CREATE TEXT SEARCH CONFIGURATION public.fr (\n    PARSER = pg_catalog.\"default\" );\n\n\
         ALTER TEXT SEARCH CONFIGURATION public.fr\n    ADD MAPPING FOR asciiword WITH simple;\n\n\
         {}CREATE AGGREGATE public.agg(integer) (\n    SFUNC = int4pl,\n    STYPE = integer\n);\n\n\
         {}ALTER TABLE public.x SET (fillfactor='80');\n",
        toc("fr", "TEXT SEARCH CONFIGURATION", "public"),
        toc("agg(integer)", "AGGREGATE", "public"),
        toc("x", "TABLE", "public"),
    ));
    assert_eq!(s.opaque_count(), 3);
    let fr = &s.opaque["TEXT SEARCH CONFIGURATION public.fr"];
    assert_eq!(fr.statements.len(), 2);
    assert_eq!(
        fr.statements[1],
        "ALTER TEXT SEARCH CONFIGURATION public.fr ADD MAPPING FOR asciiword WITH simple"
    );
    let kinds: Vec<_> = s.opaque_kinds().into_iter().collect();
    assert_eq!(
        kinds,
        [
            ("AGGREGATE", 1),
            ("TABLE", 1),
            ("TEXT SEARCH CONFIGURATION", 1)
        ]
    );
}

#[test]
fn noise_is_skipped() {
    let s = build(
        "SET statement_timeout = 0;\nSET transaction_timeout = 0;\n\\restrict abc123\n\
         SELECT pg_catalog.pg_restore_relation_stats('version', '180000'::integer, 'relation', 'public.t'::regclass);\n\
         SELECT pg_catalog.setval('public.s', 1, false);\n\
         CREATE DATABASE odoo WITH TEMPLATE = template0 ENCODING = 'UTF8';\n",
    );
    assert_eq!(
        s,
        Schema {
            noise_statements: 5,
            ..Schema::default()
        }
    );
}
