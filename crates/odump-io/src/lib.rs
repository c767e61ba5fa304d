//! Opens any dump input and streams its bytes with bounded memory.
//!
//! The container is detected from the content, never from the file name: plain SQL (with or
//! without a UTF-8 byte order mark; UTF-16 is transcoded), gzip (one or many members, every
//! member's CRC32 and size checked), an Odoo backup zip (`dump.sql`, `manifest.json`,
//! `filestore/…`), a pg_dump custom archive (also gzip-compressed), a pg_dump directory dump,
//! and `-` for standard input, which works for every format but the directory one.
//!
//! SQL comes out of [`SqlStream`] in large chunks; for plain local files the chunks are slices of
//! a memory map, otherwise a reader thread decompresses ahead of the parser (or, with
//! [`open_with`] and [`Decoding::CallingThread`], the parser's own thread does). Archives come out as
//! an [`Archive`] for the archive reader of `odump-pgdump`.
//!
//! ```no_run
//! let mut input = odump_io::open("backup.zip")?;
//! println!("{:?}", input.container);
//! if let odump_io::Body::Sql(stream) = &mut input.body {
//!     let mut bytes = 0;
//!     while let Some(chunk) = stream.next_chunk()? {
//!         bytes += chunk.len();
//!     }
//!     println!("{bytes} bytes of SQL");
//! }
//! # Ok::<(), odump_io::Error>(())
//! ```

mod deflate;
mod error;
mod fault;
mod gzip;
mod inflate;
mod pipeline;
mod utf16;
mod zip;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

pub use crate::deflate::BACKEND as GZIP_BACKEND;
pub use crate::error::Error;
pub use crate::pipeline::SqlStream;
pub use crate::zip::{SharedInventory, ZipInventory};

use crate::gzip::GzipReader;
use crate::pipeline::stream_error;
use crate::utf16::Utf16Reader;

/// How the dump is packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// An uncompressed SQL script.
    Plain,
    /// gzip (holding SQL or a custom archive).
    Gzip,
    /// An Odoo backup zip.
    Zip,
    /// A pg_dump custom-format archive.
    Custom,
    /// A pg_dump directory-format dump.
    Directory,
}

/// Text encodings a plain dump may arrive in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    /// UTF-8 or ASCII-compatible (the normal case).
    Utf8,
    /// UTF-8 with a byte order mark, which is skipped.
    Utf8Bom,
    /// UTF-16 little endian, transcoded to UTF-8.
    Utf16Le,
    /// UTF-16 big endian, transcoded to UTF-8.
    Utf16Be,
}

/// How far the input has been read, for a progress bar on another thread.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    read: Arc<AtomicU64>,
    total: Option<u64>,
}

impl Progress {
    /// Bytes of the input file (compressed) consumed so far.
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
    /// The input's size, when known (not for stdin).
    pub fn total(&self) -> Option<u64> {
        self.total
    }
}

/// A pg_dump custom or directory archive, for `odump_pgdump::archive`.
pub enum Archive {
    /// A custom archive in a seekable file: data offsets in its TOC can be used.
    File(File),
    /// A custom archive that can only be read forward (stdin, gzip-compressed).
    Stream(Box<dyn Read + Send>),
    /// A directory dump: `toc.dat` and the data files beside it.
    Directory(PathBuf),
}

/// The content of an input.
pub enum Body {
    /// SQL text (plain dumps, gzip, zip's `dump.sql`).
    Sql(SqlStream),
    /// A custom or directory archive.
    Archive(Archive),
}

/// An opened input.
pub struct Input {
    /// The name to show in messages (`-` is shown as `stdin`).
    pub name: String,
    /// What holds the dump.
    pub container: Container,
    /// The input's size on disk (`None` for stdin and directories).
    pub compressed_size: Option<u64>,
    /// The text encoding of a plain dump.
    pub text_encoding: TextEncoding,
    /// For zip backups: what the zip holds; complete up front for seekable files, filled as the
    /// stream goes past `dump.sql` otherwise.
    pub zip: Option<SharedInventory>,
    /// The SQL or archive.
    pub body: Body,
    /// Bytes consumed, for progress bars.
    pub progress: Progress,
}

/// Which thread decompresses a compressed SQL stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decoding {
    /// A reader thread of its own, a few chunks ahead of the parser, so that decompression and
    /// parsing overlap on two cores: the fastest way to read one dump.
    #[default]
    ReaderThread,
    /// The thread that calls [`SqlStream::next_chunk`]: no hand-over between threads and each
    /// chunk is parsed while it is still in the core's cache. Faster when the caller already
    /// reads one dump per core (`odoo-dump diff`). Zip entries still get a reader thread.
    CallingThread,
}

/// Opens a dump file, a directory dump, or `-` for standard input, decompressing on a reader
/// thread ([`Decoding::ReaderThread`]).
pub fn open(path: &str) -> Result<Input, Error> {
    open_with(path, Decoding::ReaderThread)
}

/// Like [`open`], with the choice of the thread that decompresses.
pub fn open_with(path: &str, decoding: Decoding) -> Result<Input, Error> {
    if path == "-" {
        return open_reader(
            "stdin",
            Box::new(io::stdin()),
            Progress::default(),
            decoding,
        );
    }
    let name = path.to_string();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return open_directory(path);
    }
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let head = read_head(&mut file).map_err(|e| Error::io(path, e))?;
    let size = meta.len();
    let progress = Progress {
        read: Arc::default(),
        total: Some(size),
    };
    let input = |container, text_encoding, zip, body| Input {
        name: name.clone(),
        container,
        compressed_size: Some(size),
        text_encoding,
        zip,
        body,
        progress: progress.clone(),
    };
    match sniff(&head) {
        Sniffed::Custom => Ok(input(
            Container::Custom,
            TextEncoding::Utf8,
            None,
            Body::Archive(Archive::File(file)),
        )),
        Sniffed::Text(enc @ (TextEncoding::Utf8 | TextEncoding::Utf8Bom)) if size > 0 => {
            // SAFETY: the map is read-only; a file truncated by another process while we read it
            // would fault, which is the accepted risk of every mmap-based reader (ripgrep's too).
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
            let skip = if enc == TextEncoding::Utf8Bom { 3 } else { 0 };
            let stream = SqlStream::mapped(map, skip, progress.clone());
            Ok(input(Container::Plain, enc, None, Body::Sql(stream)))
        }
        Sniffed::Zip => open_zip_file(input(
            Container::Zip,
            TextEncoding::Utf8,
            None,
            Body::Archive(Archive::File(file)),
        )),
        _ => {
            file.seek(SeekFrom::Start(0))
                .map_err(|e| Error::io(path, e))?;
            let counted = CountingReader {
                inner: file,
                progress: progress.clone(),
            };
            open_reader(path, Box::new(counted), progress, decoding)
        }
    }
}

/// Decodes a gzip stream (one or more members, each member's CRC32 and size checked) with the
/// backend `odump-io` was built with ([`GZIP_BACKEND`]), on the calling thread. [`open`] does
/// this on its reader thread; this is the bare decoder, for benchmarks and tools.
pub fn gzip_decoder(reader: impl Read + Send) -> impl Read + Send {
    GzipReader::new(BufReader::with_capacity(1 << 18, reader))
}

/// Opens an in-memory dump (tests, fuzzing). Behaves like a non-seekable stream.
pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Input, Error> {
    let progress = Progress {
        read: Arc::default(),
        total: Some(bytes.len() as u64),
    };
    open_reader(
        name,
        Box::new(Cursor::new(bytes)),
        progress,
        Decoding::ReaderThread,
    )
}

fn open_directory(path: &str) -> Result<Input, Error> {
    let toc = Path::new(path).join("toc.dat");
    if !toc.is_file() {
        return Err(Error::UnknownFormat {
            path: path.to_string(),
            detail: "a directory without toc.dat".into(),
        });
    }
    Ok(Input {
        name: path.to_string(),
        container: Container::Directory,
        compressed_size: None,
        text_encoding: TextEncoding::Utf8,
        zip: None,
        body: Body::Archive(Archive::Directory(PathBuf::from(path))),
        progress: Progress::default(),
    })
}

/// A seekable zip: the central directory first, then the walk from `dump.sql`'s header.
fn open_zip_file(mut input: Input) -> Result<Input, Error> {
    let Body::Archive(Archive::File(file)) = &input.body else {
        unreachable!("open_zip_file takes a file")
    };
    let name = input.name.clone();
    let clone = file.try_clone().map_err(|e| Error::io(&name, e))?;
    let (inventory, start) = match zip::central_inventory(BufReader::new(clone)) {
        Some((inventory, header)) => {
            if !inventory.has_dump_sql {
                return Err(not_a_backup(&name, &inventory));
            }
            (inventory, header)
        }
        // No readable central directory (a cut download): walk from the start.
        None => (ZipInventory::default(), 0),
    };
    let shared: SharedInventory = Arc::new(Mutex::new(inventory));
    let file = file.try_clone().map_err(|e| Error::io(&name, e))?;
    let reader = zip::reader_at(file, start).map_err(|e| Error::io(&name, e))?;
    let counted = BufReader::with_capacity(
        1 << 18,
        CountingReader {
            inner: reader,
            progress: input.progress.clone(),
        },
    );
    input.zip = Some(shared.clone());
    input.body = Body::Sql(zip_stream(
        &name,
        counted,
        start,
        shared,
        input.progress.clone(),
    ));
    Ok(input)
}

fn not_a_backup(name: &str, inventory: &ZipInventory) -> Error {
    Error::BadZip {
        path: name.to_string(),
        detail: format!(
            "a zip without dump.sql ({} entries) is not an Odoo backup; use the zip from Odoo's database manager, or the .sql/.dump inside it",
            inventory.entries
        ),
    }
}

fn zip_stream(
    name: &str,
    reader: impl BufRead + Send + 'static,
    start: u64,
    inventory: SharedInventory,
    progress: Progress,
) -> SqlStream {
    let thread_name = name.to_string();
    SqlStream::threaded(
        name.into(),
        "zip entry dump.sql".into(),
        progress,
        move |pump| {
            let stop_after_dump = inventory.lock().unwrap().complete;
            let mut consumer_gone = false;
            let walked = zip::walk(reader, start, &inventory, stop_after_dump, &mut |sql| {
                let mut sql = skip_bom(sql);
                match pump.drain(&mut sql) {
                    Ok(more) => {
                        consumer_gone = !more;
                        Ok(())
                    }
                    Err(e) => Err(io::Error::other(e)),
                }
            });
            if let Err(e) = walked {
                if consumer_gone {
                    return Ok(());
                }
                return Err(match e.into_inner() {
                    Some(inner) => match inner.downcast::<Error>() {
                        Ok(ours) => *ours,
                        Err(other) => stream_error(&thread_name, "zip", io::Error::other(other)),
                    },
                    None => Error::io(&thread_name, io::Error::other("zip read failed")),
                });
            }
            let inventory = inventory.lock().unwrap();
            if !inventory.has_dump_sql {
                return Err(not_a_backup(&thread_name, &inventory));
            }
            Ok(())
        },
    )
}

/// Skips a UTF-8 byte order mark at the start of a reader.
fn skip_bom(reader: &mut dyn Read) -> Box<dyn Read + '_> {
    let mut head = [0u8; 3];
    let mut got = 0;
    while got < 3 {
        match reader.read(&mut head[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    let keep = if head[..got] == [0xEF, 0xBB, 0xBF] {
        0
    } else {
        got
    };
    Box::new(Cursor::new(head[..keep].to_vec()).chain(reader))
}

/// A stream that can only be read forward: sniff its head, then set up the right decoder.
/// `progress` is what the caller's reader counts into (stdin counts nothing).
fn open_reader(
    name: &str,
    mut reader: Box<dyn Read + Send>,
    progress: Progress,
    decoding: Decoding,
) -> Result<Input, Error> {
    let size = progress.total;
    let head = read_head(&mut reader).map_err(|e| Error::io(name, e))?;
    let sniffed = sniff(&head);
    let stream: Box<dyn Read + Send> = Box::new(Cursor::new(head.clone()).chain(reader));
    let mut input = Input {
        name: name.to_string(),
        container: Container::Plain,
        compressed_size: size,
        text_encoding: TextEncoding::Utf8,
        zip: None,
        body: Body::Archive(Archive::Directory(PathBuf::new())),
        progress: progress.clone(),
    };
    match sniffed {
        Sniffed::Custom => {
            input.container = Container::Custom;
            input.body = Body::Archive(Archive::Stream(stream));
        }
        Sniffed::Zip => {
            let inventory = SharedInventory::default();
            input.container = Container::Zip;
            input.zip = Some(inventory.clone());
            let reader = BufReader::with_capacity(1 << 18, stream);
            input.body = Body::Sql(zip_stream(name, reader, 0, inventory, progress));
        }
        Sniffed::Gzip => {
            input.container = Container::Gzip;
            let mut gz = GzipReader::new(BufReader::with_capacity(1 << 18, stream));
            // A fault this early (a tiny cut or corrupt file) is replayed after the bytes that
            // did decode, so the reader reports it where it happened, with what came before.
            let (inner_head, fault) = read_head_lenient(&mut gz);
            let rest: Box<dyn Read + Send> = match fault {
                Some(e) if inner_head.is_empty() => return Err(stream_error(name, "gzip", e)),
                Some(e) => Box::new(FailingReader(Some(e))),
                None => Box::new(gz),
            };
            let inner: Box<dyn Read + Send> = Box::new(Cursor::new(inner_head.clone()).chain(rest));
            match sniff(&inner_head) {
                Sniffed::Custom => input.body = Body::Archive(Archive::Stream(inner)),
                Sniffed::Text(enc) => {
                    input.text_encoding = enc;
                    input.body =
                        Body::Sql(text_stream(name, "gzip", inner, enc, progress, decoding)?);
                }
                other => return Err(unknown(name, &inner_head, other, "inside gzip: ")),
            }
        }
        Sniffed::Text(enc) => {
            input.text_encoding = enc;
            input.body = Body::Sql(text_stream(name, "input", stream, enc, progress, decoding)?);
        }
        other => return Err(unknown(name, &head, other, "")),
    }
    Ok(input)
}

fn text_stream(
    name: &str,
    container: &str,
    mut stream: Box<dyn Read + Send>,
    enc: TextEncoding,
    progress: Progress,
    decoding: Decoding,
) -> Result<SqlStream, Error> {
    let bom_len = match enc {
        TextEncoding::Utf8 => 0,
        TextEncoding::Utf8Bom => 3,
        TextEncoding::Utf16Le | TextEncoding::Utf16Be => 2,
    };
    // The byte order mark is within the head already read, so this does not wait for input.
    let mut bom = [0u8; 3];
    stream
        .read_exact(&mut bom[..bom_len])
        .map_err(|e| stream_error(name, container, e))?;
    let text: Box<dyn Read + Send> = match enc {
        TextEncoding::Utf16Le => Box::new(Utf16Reader::new(stream, false)),
        TextEncoding::Utf16Be => Box::new(Utf16Reader::new(stream, true)),
        _ => stream,
    };
    Ok(match decoding {
        Decoding::CallingThread => SqlStream::inline(name.into(), container.into(), progress, text),
        Decoding::ReaderThread => {
            SqlStream::threaded(name.into(), container.into(), progress, move |pump| {
                let mut text = text;
                pump.drain(&mut text).map(|_| ())
            })
        }
    })
}

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    Gzip,
    Zip,
    Custom,
    Text(TextEncoding),
    Empty,
    Binary,
    OtherText,
}

/// Bytes looked at to decide the format.
const HEAD: usize = 4096;

fn read_head(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD);
    reader.take(HEAD as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Like [`read_head`], but keeps the bytes read before an error and returns the error beside them.
fn read_head_lenient(reader: &mut dyn Read) -> (Vec<u8>, Option<io::Error>) {
    let mut head = vec![0u8; HEAD];
    let mut filled = 0;
    while filled < HEAD {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                head.truncate(filled);
                return (head, Some(e));
            }
        }
    }
    head.truncate(filled);
    (head, None)
}

/// A reader that fails with a stored error (once), then reads as empty.
struct FailingReader(Option<io::Error>);

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

fn sniff(head: &[u8]) -> Sniffed {
    if head.is_empty() {
        return Sniffed::Empty;
    }
    // A lone 0x1f is a gzip file cut after its first byte.
    if head.starts_with(&[0x1f, 0x8b]) || head == [0x1f] {
        return Sniffed::Gzip;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    if head.starts_with(b"PGDMP") {
        return Sniffed::Custom;
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Sniffed::Text(TextEncoding::Utf16Le);
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Sniffed::Text(TextEncoding::Utf16Be);
    }
    let (enc, text) = match head.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (TextEncoding::Utf8Bom, rest),
        None => (TextEncoding::Utf8, head),
    };
    if text.contains(&0) {
        return Sniffed::Binary;
    }
    if looks_like_sql(text) {
        Sniffed::Text(enc)
    } else if std::str::from_utf8(&text[..text.len().min(HEAD - 4)]).is_ok() {
        Sniffed::OtherText
    } else {
        Sniffed::Binary
    }
}

/// A pg_dump script starts with a comment, a psql meta-command or a statement.
fn looks_like_sql(text: &[u8]) -> bool {
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else { return false };
    let word: Vec<u8> = text[start..]
        .iter()
        .take(12)
        .take_while(|b| b.is_ascii_alphabetic() || **b == b'\\' || **b == b'-' || **b == b'/')
        .map(u8::to_ascii_uppercase)
        .collect();
    word.starts_with(b"--")
        || word.starts_with(b"/*")
        || word.starts_with(b"\\RESTRICT")
        || word.starts_with(b"\\CONNECT")
        || [
            &b"SET"[..],
            b"SELECT",
            b"CREATE",
            b"COPY",
            b"INSERT",
            b"BEGIN",
            b"ALTER",
            b"START",
            b"COMMENT",
        ]
        .iter()
        .any(|k| word == *k)
}

fn unknown(name: &str, head: &[u8], sniffed: Sniffed, prefix: &str) -> Error {
    let detail = match sniffed {
        Sniffed::Empty => "the file is empty".to_string(),
        Sniffed::OtherText => {
            let first_line = String::from_utf8_lossy(head)
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(40)
                .collect::<String>();
            format!("text that does not start like SQL: {first_line:?}")
        }
        _ => format!(
            "binary data starting with {}",
            head.iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    };
    Error::UnknownFormat {
        path: name.to_string(),
        detail: format!("{prefix}{detail}"),
    }
}

/// Counts bytes read from the underlying file for progress.
struct CountingReader<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_sql(input: Input) -> Result<Vec<u8>, Error> {
        let Body::Sql(mut stream) = input.body else {
            panic!("expected SQL")
        };
        let mut out = Vec::new();
        while let Some(chunk) = stream.next_chunk()? {
            out.extend_from_slice(chunk);
        }
        Ok(out)
    }

    #[test]
    fn sniffs_formats() {
        assert_eq!(sniff(b""), Sniffed::Empty);
        assert_eq!(
            sniff(b"--\n-- PostgreSQL database dump"),
            Sniffed::Text(TextEncoding::Utf8)
        );
        assert_eq!(
            sniff(b"\xEF\xBB\xBF--"),
            Sniffed::Text(TextEncoding::Utf8Bom)
        );
        assert_eq!(sniff(b"hello world"), Sniffed::OtherText);
        assert_eq!(sniff(b"\x00\x01garbage"), Sniffed::Binary);
        assert_eq!(sniff(b"PGDMP\x01\x0e"), Sniffed::Custom);
    }

    #[test]
    fn plain_from_bytes_round_trips_and_bom_is_skipped() {
        let input = from_bytes("t", b"\xEF\xBB\xBFSET x = 1;\n".to_vec()).unwrap();
        assert_eq!(input.text_encoding, TextEncoding::Utf8Bom);
        assert_eq!(all_sql(input).unwrap(), b"SET x = 1;\n");
    }

    #[test]
    fn both_decoding_threads_give_the_same_sql_and_the_same_fault() {
        use std::io::Write;
        let sql: Vec<u8> = (0..50_000)
            .flat_map(|i| format!("INSERT INTO t VALUES ({i}, 'row {}');\n", i * 7).into_bytes())
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&sql).unwrap();
        let gz = gz.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join("whole.sql.gz");
        let cut = dir.path().join("cut.sql.gz");
        std::fs::write(&whole, &gz).unwrap();
        std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
        for decoding in [Decoding::ReaderThread, Decoding::CallingThread] {
            let input = open_with(whole.to_str().unwrap(), decoding).unwrap();
            assert_eq!(all_sql(input).unwrap(), sql, "{decoding:?}");

            let Body::Sql(mut stream) = open_with(cut.to_str().unwrap(), decoding).unwrap().body
            else {
                panic!("expected SQL")
            };
            let mut read = Vec::new();
            let err = loop {
                match stream.next_chunk() {
                    Ok(Some(chunk)) => read.extend_from_slice(chunk),
                    Ok(None) => panic!("{decoding:?}: a cut gzip read as whole"),
                    Err(e) => break e,
                }
            };
            assert!(
                matches!(err, Error::Truncated { .. }),
                "{decoding:?}: {err}"
            );
            assert!(
                read.len() > sql.len() / 4,
                "{decoding:?}: {} bytes",
                read.len()
            );
            assert_eq!(read, sql[..read.len()], "{decoding:?}");
        }
    }

    #[test]
    fn unknown_text_is_refused_with_its_first_line() {
        let err = from_bytes("notes.txt", b"shopping list\n".to_vec())
            .err()
            .unwrap();
        assert!(err.to_string().contains("shopping list"), "{err}");
    }
}
