//! Tables, columns, constraints, indexes and sequences: `CREATE TABLE`, `ALTER TABLE`,
//! `CREATE INDEX`, `ALTER INDEX … ATTACH PARTITION`, `CREATE SEQUENCE`, `ALTER SEQUENCE … OWNED BY`.

use super::{Cx, SchemaBuilder};
use crate::lex::{render, render_stripped, split_commas, Cur, Tk, Token};
use crate::model::{
    Column, Constraint, ConstraintKind, ForeignKey, Identity, Index, Partition, Sequence, Table,
};
use crate::types::render_type;

/// Keywords that end a column's type in a column definition.
const COLUMN_CLAUSES: &[&str] = &[
    "COLLATE",
    "DEFAULT",
    "NOT",
    "NULL",
    "GENERATED",
    "CONSTRAINT",
    "CHECK",
    "REFERENCES",
    "UNIQUE",
    "PRIMARY",
];

/// Keywords that start a sequence option.
const SEQUENCE_OPTIONS: &[&str] = &[
    "AS",
    "START",
    "INCREMENT",
    "MINVALUE",
    "MAXVALUE",
    "NO",
    "CACHE",
    "CYCLE",
    "SEQUENCE",
    "OWNED",
    "RESTART",
];

impl SchemaBuilder {
    /// `CREATE [UNLOGGED] TABLE name (…) | OF type | PARTITION OF parent … [INHERITS (…)]
    /// [PARTITION BY …] [WITH (…)]`.
    pub(super) fn create_table(
        &mut self,
        cx: &Cx<'_>,
        c: &mut Cur<'_, '_>,
        unlogged: bool,
    ) -> Option<()> {
        c.kws(&["IF", "NOT", "EXISTS"]);
        let (name, schema) = self.qualified_name(cx, c)?;
        let strip = [schema.as_str(), "pg_catalog"];
        let mut table = Table {
            unlogged,
            ..Table::default()
        };
        let mut bound_follows = false;
        if c.kw("OF") {
            let start = c.pos;
            c.name()?;
            table.of_type = Some(render_type(
                c.slice(start, c.pos),
                cx.type_schema.as_deref(),
            ));
        } else if c.kws(&["PARTITION", "OF"]) {
            let (parent, _) = self.qualified_name(cx, c)?;
            if let Some(p) = self.schema.tables.get(&parent) {
                table.columns = p.columns.clone();
            }
            table.partition_of = Some(Partition {
                parent,
                bound: String::new(),
            });
            bound_follows = true;
        }
        if let Some(items) = c.group() {
            for item in split_commas(items) {
                self.table_item(cx, &mut table, item, &strip)?;
            }
        } else if table.of_type.is_none() && !bound_follows {
            return None;
        }
        if bound_follows {
            let bound = c.until_kw(&["PARTITION", "WITH", "TABLESPACE", "USING"]);
            if let Some(p) = table.partition_of.as_mut() {
                p.bound = render_stripped(bound, &strip);
            }
        }
        while !c.at_end() {
            if c.kw("INHERITS") {
                for parent in split_commas(c.group()?) {
                    let (p, _) = self.qualified_name(cx, &mut Cur::new(parent))?;
                    table.inherits.push(p);
                }
            } else if c.kws(&["PARTITION", "BY"]) {
                let spec = c.until_kw(&["WITH", "TABLESPACE", "USING"]);
                table.partition_by = Some(render_stripped(spec, &strip));
            } else if c.kws(&["WITH", "OIDS"]) {
                table.options = Some("OIDS".into());
            } else if c.kw("WITH") {
                table.options = Some(render(c.group()?));
            } else if c.kws(&["WITHOUT", "OIDS"]) {
            } else if c.kw("TABLESPACE") || c.kw("USING") {
                // Placement (tablespace, access method): not part of the logical schema.
                c.ident()?;
            } else {
                return None;
            }
        }
        self.schema.tables.insert(name.clone(), table);
        self.toc_owner(cx, "table", &name);
        Some(())
    }

    /// One item of a CREATE TABLE list: a table constraint or a column.
    fn table_item(
        &self,
        cx: &Cx<'_>,
        table: &mut Table,
        item: &[Token<'_>],
        strip: &[&str],
    ) -> Option<()> {
        let mut c = Cur::new(item);
        if c.kw("CONSTRAINT") {
            let cname = c.ident()?;
            let con = self.parse_constraint(cx, c.rest(), strip)?;
            table.constraints.insert(cname, con);
            return Some(());
        }
        let unnamed_constraint = c.peek_kws(&["PRIMARY", "KEY"])
            || c.peek_kws(&["FOREIGN", "KEY"])
            || ["UNIQUE", "CHECK", "LIKE"].iter().any(|k| c.peek_kws(&[k]))
            // `exclude` is not reserved: a column may bear the name.
            || (c.peek_kws(&["EXCLUDE"])
                && c.peek_at(1)
                    .is_some_and(|t| t.kind == Tk::LParen || t.is_kw("USING")));
        if unnamed_constraint {
            // pg_dump names every table constraint.
            return None;
        }
        let name = c.ident()?;
        let inherited = c.kws(&["WITH", "OPTIONS"]);
        let ty = c.until_kw(COLUMN_CLAUSES);
        let existing = table.columns.position(&name);
        let mut col = match existing {
            Some(i) if inherited || ty.is_empty() => table.columns[i].clone(),
            _ if ty.is_empty() => return None,
            _ => Column {
                name,
                data_type: render_type(ty, cx.type_schema.as_deref()),
                ..Column::default()
            },
        };
        while !c.at_end() {
            if c.kw("COLLATE") {
                let start = c.pos;
                c.name()?;
                col.collation = Some(render_stripped(&item[start..c.pos], &["pg_catalog"]));
            } else if c.kw("DEFAULT") {
                col.default = Some(render_stripped(default_expr(&mut c), strip));
            } else if c.kws(&["NOT", "NULL"]) {
                col.not_null = true;
            } else if c.kw("NULL") {
            } else if c.kw("GENERATED") {
                if c.kws(&["ALWAYS", "AS"]) && c.peek().is_some_and(|t| t.kind == Tk::LParen) {
                    let expr = render_stripped(c.group()?, strip);
                    let how = c.ident()?.to_ascii_uppercase();
                    col.generated = Some(format!("({expr}) {how}"));
                } else {
                    col.identity = Some(identity_kind(&mut c)?);
                    c.group();
                }
            } else if c.kw("CONSTRAINT") {
                let cname = c.ident()?;
                if c.kws(&["NOT", "NULL"]) {
                    col.not_null = true;
                } else if c.peek_kws(&["CHECK"]) {
                    let check = c.until_kw(&["CONSTRAINT", "NOT", "DEFAULT"]);
                    let con = self.parse_constraint(cx, check, strip)?;
                    table.constraints.insert(cname, con);
                } else {
                    return None;
                }
            } else {
                return None;
            }
        }
        table.columns.insert(col);
        Some(())
    }

    /// A constraint definition after its name: `PRIMARY KEY (…)`, `UNIQUE (…)`, `CHECK (…)`,
    /// `FOREIGN KEY (…) REFERENCES t(…) …`, `EXCLUDE …`.
    fn parse_constraint(
        &self,
        cx: &Cx<'_>,
        toks: &[Token<'_>],
        strip: &[&str],
    ) -> Option<Constraint> {
        let definition = render_stripped(toks, strip);
        let mut c = Cur::new(toks);
        let idents = |g: &[Token<'_>]| -> Option<Vec<String>> {
            split_commas(g)
                .into_iter()
                .map(|col| Cur::new(col).ident())
                .collect()
        };
        let (kind, columns, references) = if c.kws(&["PRIMARY", "KEY"]) {
            (ConstraintKind::PrimaryKey, idents(c.group()?)?, None)
        } else if c.kw("UNIQUE") {
            c.kws(&["NULLS", "NOT", "DISTINCT"]);
            c.kws(&["NULLS", "DISTINCT"]);
            (ConstraintKind::Unique, idents(c.group()?)?, None)
        } else if c.kw("CHECK") {
            c.group()?;
            (ConstraintKind::Check, Vec::new(), None)
        } else if c.kw("EXCLUDE") {
            (ConstraintKind::Exclusion, Vec::new(), None)
        } else if c.kws(&["FOREIGN", "KEY"]) {
            let cols = idents(c.group()?)?;
            if !c.kw("REFERENCES") {
                return None;
            }
            let (table, _) = self.qualified_name(cx, &mut c)?;
            let ref_cols = match c.peek().map(|t| t.kind) {
                Some(Tk::LParen) => idents(c.group()?)?,
                _ => Vec::new(),
            };
            let mut fk = ForeignKey {
                table,
                columns: ref_cols,
                on_delete: "NO ACTION".into(),
                on_update: "NO ACTION".into(),
            };
            while !c.at_end() {
                if c.kws(&["ON", "DELETE"]) {
                    fk.on_delete = fk_action(&mut c);
                } else if c.kws(&["ON", "UPDATE"]) {
                    fk.on_update = fk_action(&mut c);
                } else {
                    c.next();
                }
            }
            (ConstraintKind::ForeignKey, cols, Some(fk))
        } else {
            return None;
        };
        Some(Constraint {
            kind,
            columns,
            references,
            definition,
        })
    }

    /// `ALTER TABLE [ONLY] name <action>`: constraints, column defaults and settings, identity,
    /// partitions, clustering, replica identity, row security, inheritance.
    pub(super) fn alter_table(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        c.kws(&["IF", "EXISTS"]);
        c.kw("ONLY");
        let (name, schema) = self.qualified_name(cx, c)?;
        let strip = [schema.as_str(), "pg_catalog"];
        if c.kws(&["ADD", "CONSTRAINT"]) {
            let cname = c.ident()?;
            let con = self.parse_constraint(cx, c.rest(), &strip)?;
            self.schema
                .tables
                .get_mut(&name)?
                .constraints
                .insert(cname, con);
            return Some(());
        }
        if c.kw("ALTER") {
            c.kw("COLUMN");
            let col = c.ident()?;
            return self.alter_column(cx, c, &name, &col, &strip);
        }
        if c.kws(&["ATTACH", "PARTITION"]) {
            let (child, _) = self.qualified_name(cx, c)?;
            let bound = render_stripped(c.rest(), &strip);
            self.schema.tables.get_mut(&child)?.partition_of = Some(Partition {
                parent: name,
                bound,
            });
            return Some(());
        }
        if c.kw("INHERIT") {
            let (parent, _) = self.qualified_name(cx, c)?;
            let t = self.schema.tables.get_mut(&name)?;
            t.inherits.push(parent);
            return c.at_end().then_some(());
        }
        let table = self.schema.tables.get_mut(&name)?;
        if c.kws(&["CLUSTER", "ON"]) {
            table.cluster_on = Some(c.ident()?);
        } else if c.kws(&["REPLICA", "IDENTITY"]) {
            table.replica_identity = Some(render(c.rest()));
        } else if c.kws(&["ENABLE", "ROW", "LEVEL", "SECURITY"]) {
            table.row_security = true;
        } else if c.kws(&["FORCE", "ROW", "LEVEL", "SECURITY"]) {
            table.force_row_security = true;
        } else {
            return None;
        }
        c.at_end().then_some(())
    }

    /// `ALTER TABLE t ALTER COLUMN col <action>`.
    fn alter_column(
        &mut self,
        cx: &Cx<'_>,
        c: &mut Cur<'_, '_>,
        table: &str,
        col: &str,
        strip: &[&str],
    ) -> Option<()> {
        if c.kws(&["ADD", "GENERATED"]) {
            let identity = identity_kind(c)?;
            let mut seq = Sequence::default();
            let seq_name = match c.group() {
                Some(opts) => self.sequence_options(cx, &mut Cur::new(opts), &mut seq)?,
                None => None,
            };
            let column = self.schema.tables.get_mut(table)?.column_entry(col);
            column.identity = Some(identity);
            seq.data_type = column.data_type.clone();
            seq.owned_by = Some(format!("{table}.{col}"));
            if let Some(seq_name) = seq_name {
                self.schema.sequences.insert(seq_name, seq);
            }
            return c.at_end().then_some(());
        }
        let column = self.schema.tables.get_mut(table)?.column_entry(col);
        if c.kws(&["SET", "DEFAULT"]) {
            column.default = Some(render_stripped(c.rest(), strip));
        } else if c.kws(&["SET", "NOT", "NULL"]) {
            column.not_null = true;
        } else if c.kw("SET") {
            let key = match c.peek() {
                Some(t) if t.kind == Tk::LParen => "OPTIONS".to_string(),
                Some(t) if t.kind == Tk::Word => c.next()?.text.to_ascii_uppercase(),
                _ => return None,
            };
            column.settings.insert(key, render(c.rest()));
        } else if c.kw("OPTIONS") {
            column
                .settings
                .insert("FOREIGN OPTIONS".into(), render(c.rest()));
        } else {
            return None;
        }
        Some(())
    }

    /// `CREATE [UNIQUE] INDEX name ON [ONLY] table USING method (keys) [INCLUDE (…)]
    /// [WITH (…)] [WHERE …]`.
    pub(super) fn create_index(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        let unique = c.kw("UNIQUE");
        c.kw("INDEX");
        c.kw("CONCURRENTLY");
        c.kws(&["IF", "NOT", "EXISTS"]);
        let index = c.ident()?;
        if !c.kw("ON") {
            return None;
        }
        c.kw("ONLY");
        let (table, schema) = self.qualified_name(cx, c)?;
        let strip = [schema.as_str(), "pg_catalog"];
        let method = if c.kw("USING") {
            c.ident()?
        } else {
            "btree".to_string()
        };
        let keys = split_commas(c.group()?)
            .into_iter()
            .map(|k| render_stripped(k, &strip))
            .collect();
        let mut idx = Index {
            table,
            unique,
            method,
            keys,
            include: Vec::new(),
            predicate: None,
            options: None,
            attached_to: None,
        };
        let mut options = Vec::new();
        while !c.at_end() {
            if c.kw("INCLUDE") {
                idx.include = split_commas(c.group()?).into_iter().map(render).collect();
            } else if c.kws(&["NULLS", "NOT", "DISTINCT"]) {
                options.push("NULLS NOT DISTINCT".to_string());
            } else if c.kws(&["NULLS", "DISTINCT"]) {
            } else if c.kw("WITH") {
                options.push(format!("WITH ({})", render(c.group()?)));
            } else if c.kw("TABLESPACE") {
                c.ident()?;
            } else if c.kw("WHERE") {
                idx.predicate = Some(render_stripped(c.rest(), &strip));
            } else {
                return None;
            }
        }
        if !options.is_empty() {
            idx.options = Some(options.join(" "));
        }
        self.schema.indexes.insert(format!("{schema}.{index}"), idx);
        Some(())
    }

    /// `ALTER INDEX parent ATTACH PARTITION child`.
    pub(super) fn alter_index(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        let (parent, _) = self.qualified_name(cx, c)?;
        if !c.kws(&["ATTACH", "PARTITION"]) {
            return None;
        }
        let (child, _) = self.qualified_name(cx, c)?;
        if !c.at_end() {
            return None;
        }
        self.schema.indexes.get_mut(&child)?.attached_to = Some(parent);
        Some(())
    }

    /// `CREATE SEQUENCE name [AS type] START WITH … INCREMENT BY … …`.
    pub(super) fn create_sequence(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        c.kws(&["IF", "NOT", "EXISTS"]);
        let (name, _) = self.qualified_name(cx, c)?;
        let mut seq = Sequence::default();
        self.sequence_options(cx, c, &mut seq)?;
        self.schema.sequences.insert(name.clone(), seq);
        self.toc_owner(cx, "sequence", &name);
        Some(())
    }

    /// `ALTER SEQUENCE name OWNED BY table.column`.
    pub(super) fn alter_sequence(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        c.kws(&["IF", "EXISTS"]);
        let (name, _) = self.qualified_name(cx, c)?;
        if !c.kws(&["OWNED", "BY"]) {
            return None;
        }
        let owned_by = self.column_ref(cx, &c.name()?)?;
        if !c.at_end() {
            return None;
        }
        self.schema.sequences.get_mut(&name)?.owned_by = Some(owned_by);
        Some(())
    }

    /// `schema.table.column` for `t.c` or `s.t.c`.
    pub(super) fn column_ref(&self, cx: &Cx<'_>, parts: &[String]) -> Option<String> {
        let (table, col) = parts.split_last().map(|(c, t)| (t, c))?;
        let (s, t) = self.qualify(cx, table)?;
        Some(format!("{s}.{t}.{col}"))
    }

    /// Sequence options, into `seq`; returns the qualified `SEQUENCE NAME` of an identity
    /// column's option list, if given.
    fn sequence_options(
        &self,
        cx: &Cx<'_>,
        c: &mut Cur<'_, '_>,
        seq: &mut Sequence,
    ) -> Option<Option<String>> {
        let mut seq_name = None;
        while !c.at_end() {
            if c.kw("AS") {
                let ty = c.until_kw(SEQUENCE_OPTIONS);
                seq.data_type = render_type(ty, cx.type_schema.as_deref());
            } else if c.kw("START") {
                c.kw("WITH");
                seq.start = Some(number(c)?);
            } else if c.kw("INCREMENT") {
                c.kw("BY");
                seq.increment = number(c)?;
            } else if c.kws(&["NO", "MINVALUE"]) {
                seq.min_value = None;
            } else if c.kw("MINVALUE") {
                seq.min_value = Some(number(c)?);
            } else if c.kws(&["NO", "MAXVALUE"]) {
                seq.max_value = None;
            } else if c.kw("MAXVALUE") {
                seq.max_value = Some(number(c)?);
            } else if c.kw("CACHE") {
                seq.cache = number(c)?;
            } else if c.kws(&["NO", "CYCLE"]) {
                seq.cycle = false;
            } else if c.kw("CYCLE") {
                seq.cycle = true;
            } else if c.kws(&["SEQUENCE", "NAME"]) {
                seq_name = Some(self.qualified_name(cx, c)?.0);
            } else if c.kws(&["OWNED", "BY"]) {
                if !c.kw("NONE") {
                    seq.owned_by = Some(self.column_ref(cx, &c.name()?)?);
                }
            } else if c.kw("RESTART") {
                // A current value: data, not schema.
                if c.kw("WITH") || c.peek().is_some_and(|t| t.kind != Tk::Word) {
                    number(c)?;
                }
            } else {
                return None;
            }
        }
        Some(seq_name)
    }
}

/// `ALWAYS AS IDENTITY` / `BY DEFAULT AS IDENTITY`.
fn identity_kind(c: &mut Cur<'_, '_>) -> Option<Identity> {
    let kind = if c.kw("ALWAYS") {
        Identity::Always
    } else if c.kws(&["BY", "DEFAULT"]) {
        Identity::ByDefault
    } else {
        return None;
    };
    c.kws(&["AS", "IDENTITY"]).then_some(kind)
}

/// A signed integer literal.
fn number(c: &mut Cur<'_, '_>) -> Option<i64> {
    let neg = c.peek().is_some_and(|t| t.kind == Tk::Op && t.text == "-");
    if neg {
        c.next();
    }
    let t = c.next().filter(|t| t.kind == Tk::Number)?;
    let v: i64 = t.text.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// The expression after `DEFAULT` in a column definition: up to the next column clause
/// (`NOT NULL` not preceded by `IS`, `GENERATED`, `CONSTRAINT`, `CHECK`, …), at least one token.
pub(super) fn default_expr<'t, 'a>(c: &mut Cur<'t, 'a>) -> &'t [Token<'a>] {
    let start = c.pos;
    c.next();
    loop {
        let here = c.pos;
        let stop = match c.peek() {
            None => true,
            Some(t) if t.kind == Tk::LParen => {
                if c.group().is_none() {
                    c.next();
                }
                continue;
            }
            Some(t) if t.is_kw("NOT") => c.peek_kws(&["NOT", "NULL"]) && !c.prev_is_kw("IS"),
            Some(t) => [
                "GENERATED",
                "CONSTRAINT",
                "CHECK",
                "REFERENCES",
                "UNIQUE",
                "PRIMARY",
            ]
            .iter()
            .any(|k| t.is_kw(k)),
        };
        if stop {
            return c.slice(start, here);
        }
        c.next();
    }
}

/// A foreign key action after `ON DELETE` / `ON UPDATE`.
fn fk_action(c: &mut Cur<'_, '_>) -> String {
    render(c.until_kw(&["ON", "DEFERRABLE", "NOT", "INITIALLY", "MATCH"]))
}
