//! Micro benchmarks of the plain-SQL reader on in-memory dumps (no decompression):
//!
//! - `lexer/<corpus>/<mode>`: the whole reader (`odump_io::open` on a plain file, which is
//!   memory-mapped and scanned on the calling thread, then `read_dump`) over a DDL-heavy and a
//!   COPY-heavy synthetic Odoo dump, in skip mode (no sink wants rows: COPY data is only counted)
//!   and decode mode (a sink wants every row and decodes every field);
//! - `lexer/copy/skip-from-bytes`: the same through `odump_io::from_bytes` (reader thread and
//!   channel, as for decompressed input);
//! - `split/ddl`: the statement splitter alone;
//! - `copy_field/*`: one COPY field or row decoded.
//!
//! Run: `cargo bench -p odump-pgdump --bench lexer` (add `-- copy_field` to filter).
//! Under `cargo test --all-targets` criterion runs each benchmark once, as a smoke test.
//! The whole-program comparison with gzip, igzip and the restore route is `benches/compare.sh`.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use odump_pgdump::{decode_field, read_dump, CopyHeader, Flow, NoSink, Row, Sink};

/// Deterministic pseudo-random numbers (xorshift), so every run scans the same bytes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const HEADER: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n-- Dumped from database version 15.14\n-- Dumped by pg_dump version 15.14\n\nSET statement_timeout = 0;\nSET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nSELECT pg_catalog.set_config('search_path', '', false);\n\n";

/// A schema-heavy dump of about `size` bytes: tables with comments, sequences, defaults,
/// constraints, indexes and plpgsql functions with dollar quotes, like Odoo's DDL.
fn ddl_dump(size: usize) -> Vec<u8> {
    let mut rng = Rng(0x5eed);
    let mut out = String::from(HEADER);
    let mut t = 0;
    while out.len() < size {
        t += 1;
        let table = format!("x_model_{t}");
        out.push_str(&format!(
            "--\n-- Name: {table}; Type: TABLE; Schema: public; Owner: odoo\n--\n\nCREATE TABLE public.{table} (\n    id integer NOT NULL,\n"
        ));
        let columns = 5 + rng.below(30);
        for c in 0..columns {
            let ty = [
                "character varying",
                "integer",
                "jsonb",
                "timestamp without time zone",
                "numeric",
                "boolean",
                "text",
            ][rng.below(7) as usize];
            out.push_str(&format!("    field_{c} {ty},\n"));
        }
        out.push_str("    create_uid integer,\n    write_date timestamp without time zone\n);\n\n\nALTER TABLE public.");
        out.push_str(&format!("{table} OWNER TO odoo;\n\n"));
        for c in 0..columns / 3 {
            out.push_str(&format!(
                "--\n-- Name: COLUMN {table}.field_{c}; Type: COMMENT; Schema: public; Owner: odoo\n--\n\nCOMMENT ON COLUMN public.{table}.field_{c} IS 'Field {c}; it''s \"quoted\"';\n\n\n"
            ));
        }
        out.push_str(&format!(
            "--\n-- Name: {table}_id_seq; Type: SEQUENCE; Schema: public; Owner: odoo\n--\n\nCREATE SEQUENCE public.{table}_id_seq\n    AS integer\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n\n\nALTER TABLE public.{table}_id_seq OWNER TO odoo;\n\nALTER SEQUENCE public.{table}_id_seq OWNED BY public.{table}.id;\n\n\
             ALTER TABLE ONLY public.{table} ALTER COLUMN id SET DEFAULT nextval('public.{table}_id_seq'::regclass);\n\n\
             ALTER TABLE ONLY public.{table}\n    ADD CONSTRAINT {table}_pkey PRIMARY KEY (id);\n\n\
             CREATE INDEX {table}__field_1_index ON public.{table} USING btree (field_1);\n\n"
        ));
        if t % 5 == 0 {
            out.push_str(&format!(
                "CREATE FUNCTION public.{table}_trg() RETURNS trigger\n    LANGUAGE plpgsql\n    AS $_$\nBEGIN\n  IF NEW.field_1 IS NULL THEN\n    RAISE EXCEPTION 'no; value: %', $1;\n  END IF;\n  RETURN NEW;\nEND;\n$_$;\n\n"
            ));
        }
    }
    out.push_str("\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n");
    out.into_bytes()
}

/// A data-heavy dump of about `size` bytes: a few tables, one with long text rows carrying
/// escapes (like mail_message bodies), one narrow (like account_move_line ids and amounts).
fn copy_dump(size: usize) -> Vec<u8> {
    let mut rng = Rng(0xc0ffee);
    let mut out = String::from(HEADER);
    let mut block = 0;
    while out.len() < size {
        block += 1;
        let wide = block % 2 == 0;
        let table = if wide {
            "mail_message"
        } else {
            "account_move_line"
        };
        out.push_str(&format!(
            "--\n-- Data for Name: {table}; Type: TABLE DATA; Schema: public; Owner: odoo\n--\n\n"
        ));
        if wide {
            out.push_str("COPY public.mail_message (id, subject, body, model, res_id, author_id, date) FROM stdin;\n");
        } else {
            out.push_str("COPY public.account_move_line (id, move_id, account_id, debit, credit, name, date) FROM stdin;\n");
        }
        let target = (out.len() + (4 << 20)).min(size);
        let mut id = 0usize;
        while out.len() < target {
            id += 1;
            if wide {
                let words = 10 + rng.below(60);
                out.push_str(&format!(
                    "{id}\tRe: order S{:05}\t<p>Hello,\\n",
                    rng.below(99999)
                ));
                for w in 0..words {
                    out.push_str(
                        [
                            "lorem ",
                            "ipsum\\t",
                            "dolor ",
                            "sit ",
                            "amet, ",
                            "caf\\303\\251 ",
                        ][(w as usize + id) % 6],
                    );
                }
                out.push_str(&format!(
                    "</p>\tsale.order\t{}\t\\N\t2024-01-0{} 10:00:00\n",
                    rng.below(10000),
                    1 + id % 9
                ));
            } else {
                out.push_str(&format!(
                    "{id}\t{}\t{}\t{}.{:02}\t0.00\tINV/2024/{:05}\t2024-03-{:02}\n",
                    id / 3,
                    rng.below(400),
                    rng.below(100000),
                    rng.below(100),
                    id / 3,
                    1 + id % 28
                ));
            }
        }
        out.push_str("\\.\n\n\n");
    }
    out.push_str("--\n-- PostgreSQL database dump complete\n--\n\n");
    out.into_bytes()
}

/// Decode mode: wants every row and decodes every field.
struct DecodeAll(u64);
impl Sink for DecodeAll {
    fn wants_rows(&mut self, _: &CopyHeader) -> bool {
        true
    }
    fn row(&mut self, _: &CopyHeader, row: &Row<'_>) -> Flow {
        for field in row.raw_fields() {
            if let Some(bytes) = decode_field(field) {
                self.0 += bytes.len() as u64;
            }
        }
        Flow::Continue
    }
}

/// The dump in a temporary plain file: `odump_io::open` maps it and scans on this thread.
fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(bytes).expect("write temp file");
    file.flush().expect("flush temp file");
    file
}

/// Corpus sizes are divided by this under `cargo test --all-targets` (criterion's test mode, which
/// runs each benchmark once, in a debug build): `cargo bench` passes `--bench`.
fn scale() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        1
    } else {
        64
    }
}

fn lexer(c: &mut Criterion) {
    let mut group = c.benchmark_group("lexer");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, bytes) in [
        ("ddl", ddl_dump((16 << 20) / scale())),
        ("copy", copy_dump((64 << 20) / scale())),
    ] {
        let file = temp_file(&bytes);
        let path = file.path().to_str().expect("utf-8 temp path").to_string();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(BenchmarkId::new(name, "skip"), |b| {
            b.iter(|| {
                let input = odump_io::open(&path).unwrap();
                let summary = read_dump(input, &mut NoSink).unwrap();
                assert!(summary.trailer_seen);
                black_box(summary.statements)
            })
        });
        group.bench_function(BenchmarkId::new(name, "decode"), |b| {
            b.iter(|| {
                let input = odump_io::open(&path).unwrap();
                let mut sink = DecodeAll(0);
                read_dump(input, &mut sink).unwrap();
                black_box(sink.0)
            })
        });
        if name == "copy" {
            group.bench_function(BenchmarkId::new(name, "skip-from-bytes"), |b| {
                b.iter(|| {
                    let input = odump_io::from_bytes("bench", bytes.clone()).unwrap();
                    black_box(read_dump(input, &mut NoSink).unwrap().statements)
                })
            });
        }
    }
    group.finish();

    let ddl = String::from_utf8(ddl_dump((4 << 20) / scale())).unwrap();
    let mut group = c.benchmark_group("split");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Bytes(ddl.len() as u64));
    group.bench_function("ddl", |b| {
        b.iter(|| black_box(odump_pgdump::split_statements(&ddl).len()))
    });
    group.finish();
}

fn copy_field(c: &mut Criterion) {
    let mut group = c.benchmark_group("copy_field");
    group.measurement_time(Duration::from_secs(2));
    let plain = b"A plain field without any escape, like most of them in a dump".as_slice();
    let escaped =
        br"<p>Line one\nLine two\twith a tab, a backslash \\ and caf\303\251 \x41</p>".as_slice();
    for (name, field) in [
        ("plain", plain),
        ("escaped", escaped),
        ("null", br"\N".as_slice()),
    ] {
        group.throughput(Throughput::Bytes(field.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(decode_field(black_box(field))))
        });
    }
    let row = b"42\tRe: order S00042\t<p>Hello,\\nlorem ipsum\\tdolor</p>\tsale.order\t17\t\\N\t2024-01-01 10:00:00";
    let header = CopyHeader {
        columns: [
            "id",
            "subject",
            "body",
            "model",
            "res_id",
            "author_id",
            "date",
        ]
        .map(String::from)
        .to_vec(),
        ..Default::default()
    };
    group.throughput(Throughput::Bytes(row.len() as u64));
    group.bench_function("row_get_by_name", |b| {
        b.iter(|| {
            let row = Row::new(black_box(row));
            black_box(row.get(header.column_index("model")));
            black_box(row.get(header.column_index("body")))
        })
    });
    group.finish();
}

criterion_group!(benches, lexer, copy_field);
criterion_main!(benches);
