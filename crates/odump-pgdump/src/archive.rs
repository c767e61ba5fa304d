//! pg_dump custom (`-Fc`) and directory (`-Fd`) archives: header, table of contents, data.
//!
//! # The format
//!
//! Both formats share one header and TOC layout, written by `WriteHead`/`WriteToc` and read by
//! `ReadHead`/`ReadToc` in PostgreSQL's `src/bin/pg_dump/pg_backup_archiver.c`:
//!
//! * `PGDMP`, then three bytes: the archive version `1.minor.rev`. This reader takes 1.12 to 1.16:
//!   1.12 (pg_dump 9.0–10.2), 1.13 (the 2018 `search_path` security releases and 11),
//!   1.14 (12–15, adds the table access method), 1.15 (16, a compression algorithm byte instead of a
//!   level), 1.16 (17–18, adds `relkind`, several `BLOBS` entries).
//! * one byte each: integer size (4), offset size (8), format (1 custom; a directory's `toc.dat`
//!   says 3, the tar code, see `pg_backup_directory.c`).
//! * compression: before 1.15 an int level (`0` none, `-1` default, else zlib); from 1.15 one byte
//!   `pg_compress_algorithm` (0 none, 1 gzip, 2 lz4, 3 zstd; `src/include/common/compression.h`).
//! * creation time as seven ints (`tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_isdst`),
//!   then strings: database name, server version, pg_dump version.
//! * an int TOC entry count, then per entry: dump id (int), had-dumper (int), table oid (string),
//!   oid (string), tag, desc (strings), section (int), defn, drop statement, copy statement,
//!   namespace, tablespace, table access method (1.14+) (strings), relkind (int, 1.16+), owner,
//!   `"false"` (the old WITH OIDS flag) (strings), dependency dump ids as strings ended by a NULL
//!   string, then the format's extra data: for custom archives an offset (`pg_backup_custom.c`
//!   `_ReadExtraToc`), for directories the data file name (`pg_backup_directory.c`).
//!
//! An int is a sign byte followed by `intSize` magnitude bytes, least significant first. A string
//! is an int length (`-1` for NULL) followed by that many bytes. An offset is a flag byte
//! (1 not set, 2 set, 3 no data) followed by `offSize` bytes, least significant first.
//!
//! Custom archives continue with the data blocks, in TOC order (`pg_backup_custom.c`): a block type
//! byte (1 table data, 3 large objects), the entry's dump id (int), then chunks (int length, bytes),
//! ended by a zero length. With gzip compression the chunks of one block are one zlib stream
//! (`compress_gzip.c`, `inflateInit`). A large-object block holds, per object, its OID (int) and
//! its own chunk list; a zero OID ends it. When pg_dump writes to a seekable file it rewrites the
//! TOC at the end with each block's offset; written to a pipe (as Odoo does) the offsets stay
//! "not set" and the blocks are found by walking them from the end of the TOC.
//!
//! Directory dumps keep the TOC in `toc.dat` and each entry's data in the file the TOC names
//! (`1234.dat`), gzip-compressed as `1234.dat.gz` (or `.lz4`, `.zst` from PostgreSQL 16).
//!
//! COPY data is stored as pg_dump received it, followed by the end marker `\.` and blank lines;
//! this reader hands out the rows only, without the marker, like what `pg_restore` prints between
//! the `COPY` line and `\.`.
//!
//! # Robustness
//!
//! The archive is untrusted input: lengths are capped and checked against the file size when it is
//! known, nothing is allocated from a length before the bytes are there, every error names the
//! byte offset, and a file cut short anywhere (header, TOC, data block, between blocks) gives an
//! [`Error::Truncated`] with the offset where it ends. A directory whose data file is absent
//! gives a [`DataVisit`] listing it; COPY data that ends without pg_dump's `\.` line (a data
//! file emptied or cut) makes the data reader fail with [`UnterminatedData`] at its end.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use flate2::{Decompress, FlushDecompress, Status};

use crate::{Error, TocEntry};

/// The longest string (a `defn`, usually) accepted from a TOC.
const MAX_STRING: u64 = 256 << 20;
/// The most TOC entries accepted (a real one has a few per table, index and constraint).
const MAX_ENTRIES: i32 = 50_000_000;
/// The most dependencies accepted on one TOC entry.
const MAX_DEPS: usize = 1 << 20;
/// Oldest and newest archive minor versions read (major is always 1).
const MIN_MINOR: u8 = 12;
const MAX_MINOR: u8 = 16;
const K_VERS_1_14: u8 = 14;
const K_VERS_1_15: u8 = 15;
const K_VERS_1_16: u8 = 16;
const BLK_DATA: u8 = 1;
const BLK_BLOBS: u8 = 3;
const K_OFFSET_POS_NOT_SET: u8 = 1;
const K_OFFSET_POS_SET: u8 = 2;
const K_OFFSET_NO_DATA: u8 = 3;
const FORMAT_CUSTOM: u8 = 1;
const FORMAT_TAR: u8 = 3;
const FORMAT_DIRECTORY: u8 = 5;
/// What to tell a user whose archive this reader cannot decode.
fn convert(archive: &str) -> String {
    format!("convert it to SQL with `pg_restore -f - {archive} | odoo-dump inspect -`")
}
const REDOWNLOAD: &str = "copy or download it again";

/// Which archive format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// `pg_dump -Fc`: one file.
    Custom,
    /// `pg_dump -Fd`: a directory with `toc.dat` and one file per data entry.
    Directory,
}

/// How the data is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// zlib in custom archives, gzip files in directories. The level is known for archives before
    /// 1.15 only (`-1` is zlib's default).
    Gzip(Option<i32>),
    /// LZ4 (PostgreSQL 16+): this reader reads the TOC but not the data.
    Lz4,
    /// Zstandard (PostgreSQL 16+): this reader reads the TOC but not the data.
    Zstd,
}

/// Header of a custom or directory archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveHeader {
    /// Archive format version, e.g. `(1, 14, 0)`.
    pub version: (u8, u8, u8),
    /// Bytes in an archive integer (4).
    pub int_size: u8,
    /// Bytes in a file offset (8).
    pub off_size: u8,
    /// Custom or directory.
    pub format: ArchiveFormat,
    /// Compression of the data.
    pub compression: Compression,
    /// The dumped database's name.
    pub database: String,
    /// The server's version (`15.4 (Debian 15.4-1)`).
    pub server_version: String,
    /// pg_dump's version.
    pub pg_dump_version: String,
    /// When the dump started, in pg_dump's local time: `YYYY-MM-DD HH:MM:SS`.
    pub created: Option<String>,
}

/// Where an entry's data is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataLocation {
    /// The entry has no data.
    None,
    /// Custom archive: the data block starts at this byte offset.
    Offset(u64),
    /// Custom archive written to a pipe: the block is somewhere after the TOC.
    NotSet,
    /// Directory: the data file's name as the TOC gives it (`1234.dat`; on disk it may carry
    /// `.gz`, `.lz4` or `.zst`).
    File(String),
}

/// One TOC entry of an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveTocEntry {
    /// The dump id (positive, unique).
    pub dump_id: i32,
    /// pg_dump had a data dumper for it (TABLE DATA, BLOBS).
    pub had_dumper: bool,
    /// The catalog OID of the object's catalog, as text.
    pub table_oid: String,
    /// The object's OID, as text.
    pub oid: String,
    /// Tag, type, schema and owner, as the plain format prints them.
    pub toc: TocEntry,
    /// 1 none, 2 pre-data, 3 data, 4 post-data.
    pub section: i32,
    /// The SQL creating the object (may be empty).
    pub defn: String,
    /// The SQL dropping it.
    pub drop_stmt: String,
    /// For data entries: `COPY schema.table (cols) FROM stdin;\n` (empty with `--inserts`).
    pub copy_stmt: String,
    /// Tablespace, empty for the default.
    pub tablespace: String,
    /// Table access method (1.14+), empty when not applicable.
    pub table_am: String,
    /// `pg_class.relkind` as a character code (1.16+), 0 otherwise.
    pub relkind: i32,
    /// Dump ids this entry depends on.
    pub deps: Vec<i32>,
    /// Where its data is.
    pub data: DataLocation,
}

impl ArchiveTocEntry {
    /// `TABLE DATA public.res_partner (dump id 1234)`, for messages.
    pub fn describe(&self) -> String {
        let name = match &self.toc.schema {
            Some(s) => format!("{s}.{}", self.toc.name),
            None => self.toc.name.clone(),
        };
        let line = format!("{} {name} (dump id {})", self.toc.kind, self.dump_id);
        // Names may hold line breaks; messages stay on one line, as pg_restore's listing does.
        line.replace(['\n', '\r'], " ")
    }

    fn is_blobs(&self) -> bool {
        self.toc.kind == "BLOBS"
    }
}

/// What a [`ArchiveReader::for_each_data`] visit found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataVisit {
    /// Data blocks (custom) or data files (directory) found, large-object ones included.
    pub blocks_seen: u64,
    /// Dump ids, in TOC order, of entries with data whose file is absent (a directory dump
    /// without its `.dat` file). Empty when the visit was stopped. A custom archive that ends
    /// before all its blocks is an [`Error::Truncated`] instead.
    pub missing: Vec<i32>,
    /// `on_data` returned `Break`: the visit ended early.
    pub stopped: bool,
}

/// Receives a data entry and a reader over its decompressed COPY rows.
pub type OnData<'a> =
    dyn FnMut(&ArchiveTocEntry, &mut dyn Read) -> Result<ControlFlow<()>, Error> + 'a;

/// Reads a custom or directory archive: the header and TOC at once, the data on demand.
pub struct ArchiveReader {
    name: String,
    header: ArchiveHeader,
    entries: Vec<ArchiveTocEntry>,
    by_id: HashMap<i32, usize>,
    source: Source,
    /// Where the data blocks of a custom archive start (the end of the TOC).
    data_start: u64,
}

enum Source {
    /// A custom archive; `used` marks a forward-only stream already walked.
    Custom { src: Src, used: bool },
    /// A directory dump.
    Directory(PathBuf),
}

impl ArchiveReader {
    /// Reads the header and the whole TOC. `name` is shown in messages.
    pub fn open(name: &str, archive: odump_io::Archive) -> Result<ArchiveReader, Error> {
        let (mut src, dir) = match archive {
            odump_io::Archive::File(mut file) => {
                let io = |e| io_error(name, e);
                let size = file.metadata().map_err(io)?.len();
                // odump-io has read the head of the file to recognise it.
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                let reader = BufReader::with_capacity(64 << 10, file);
                (Src::new(name, name, Inner::File(reader), Some(size)), None)
            }
            odump_io::Archive::Stream(stream) => {
                let reader = BufReader::with_capacity(256 << 10, stream);
                (Src::new(name, name, Inner::Stream(reader), None), None)
            }
            odump_io::Archive::Directory(dir) => {
                let toc = dir.join("toc.dat");
                let toc_name = toc.display().to_string();
                let file = File::open(&toc).map_err(|e| io_error(&toc_name, e))?;
                let size = file.metadata().map_err(|e| io_error(&toc_name, e))?.len();
                let reader = BufReader::with_capacity(64 << 10, file);
                (
                    Src::new(&toc_name, name, Inner::File(reader), Some(size)),
                    Some(dir),
                )
            }
        };
        let header = read_header(&mut src, dir.is_some())?;
        let entries = read_toc(&mut src, &header)?;
        let mut by_id = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            // pg_restore keeps the last entry of a duplicated id; so do we.
            by_id.insert(e.dump_id, i);
        }
        let data_start = src.pos;
        let source = match dir {
            Some(dir) => Source::Directory(dir),
            None => Source::Custom { src, used: false },
        };
        Ok(ArchiveReader {
            name: name.to_string(),
            header,
            entries,
            by_id,
            source,
            data_start,
        })
    }

    /// The archive header.
    pub fn header(&self) -> &ArchiveHeader {
        &self.header
    }

    /// The TOC entries, in archive order.
    pub fn entries(&self) -> &[ArchiveTocEntry] {
        &self.entries
    }

    /// The entry with this dump id.
    pub fn entry(&self, dump_id: i32) -> Option<&ArchiveTocEntry> {
        self.by_id.get(&dump_id).map(|&i| &self.entries[i])
    }

    /// Byte offset where a custom archive's data blocks start (the TOC's end); for a directory,
    /// the size of `toc.dat`.
    pub fn data_start(&self) -> u64 {
        self.data_start
    }

    /// Visits the data of the entries that have some, in archive order (file order for custom
    /// archives, TOC order for directories). For each table data entry `want(entry)` says whether
    /// the caller wants its rows: if so `on_data` gets a reader over the decompressed COPY text
    /// (rows as pg_dump wrote them, without the `\.` end marker), otherwise the block is skipped
    /// without decompressing it (by seeking when the archive is a file). Large-object blocks are
    /// skipped and counted, never offered. `on_data` returning `Break` ends the visit.
    ///
    /// Errors: a custom archive that ends early, in a block or before all of them
    /// ([`Error::Truncated`]), a directory data file cut short in its compression, corrupt
    /// compressed data, a malformed block, data compressed with lz4/zstd that `want` asks for
    /// ([`Error::Unsupported`]). Directory data files that are not there at all are reported in
    /// [`DataVisit::missing`]. COPY data without its `\.` end line is handed out whole, then the
    /// reader fails with an [`io::ErrorKind::UnexpectedEof`] error holding [`UnterminatedData`];
    /// the visit goes on if `on_data` does. A stream (stdin, gzip) can be visited once.
    pub fn for_each_data(
        &mut self,
        want: &mut dyn FnMut(&ArchiveTocEntry) -> bool,
        on_data: &mut OnData<'_>,
    ) -> Result<DataVisit, Error> {
        let entries = &self.entries;
        match &mut self.source {
            Source::Directory(dir) => visit_directory(&self.name, dir, entries, want, on_data),
            Source::Custom { src, used } => {
                if *used && !src.seekable() {
                    return Err(Error::Unsupported {
                        path: self.name.clone(),
                        detail: "the archive comes from a stream that was already read once; \
                                 open it again to read its data again"
                            .into(),
                    });
                }
                *used = true;
                src.hit_eof = false;
                let compression = self.header.compression;
                let ctx = Custom {
                    entries,
                    by_id: &self.by_id,
                    compression,
                    data_start: self.data_start,
                };
                if src.seekable() && ctx.offsets_usable() {
                    ctx.visit_by_offsets(src, want, on_data)
                } else {
                    if src.seekable() {
                        src.seek_to(self.data_start)?;
                    }
                    ctx.visit_sequential(src, want, on_data)
                }
            }
        }
    }

    /// Reads one entry's data directly: seeks to its block when the archive is a seekable custom
    /// file with data offsets, or opens its file in a directory. Returns `Ok(false)`, having read
    /// nothing, when that is not possible (a stream, offsets not set, an unknown id, an entry
    /// without table data); the caller then uses [`ArchiveReader::for_each_data`].
    pub fn read_entry_data(
        &mut self,
        dump_id: i32,
        on_data: &mut OnData<'_>,
    ) -> Result<bool, Error> {
        let Some(&index) = self.by_id.get(&dump_id) else {
            return Ok(false);
        };
        let entry = &self.entries[index];
        if entry.is_blobs() {
            return Ok(false);
        }
        match (&mut self.source, &entry.data) {
            (Source::Directory(dir), DataLocation::File(file)) => {
                match read_directory_file(&self.name, dir, file, entry, on_data)? {
                    Some(_) => Ok(true),
                    None => Err(Error::Archive {
                        path: dir.join(file).display().to_string(),
                        offset: 0,
                        detail: format!(
                            "the data file of {} is missing: the directory dump is incomplete; {REDOWNLOAD}",
                            entry.describe()
                        ),
                    }),
                }
            }
            (Source::Custom { src, .. }, DataLocation::Offset(offset)) if src.seekable() => {
                let offset = *offset;
                let size = src.size.unwrap_or(u64::MAX);
                if offset >= size {
                    return Err(src.ends_at(
                        size,
                        format!(
                            "before the data of {}, which starts at byte {offset}",
                            entry.describe()
                        ),
                    ));
                }
                src.hit_eof = false;
                src.seek_to(offset)?;
                let kind = read_block_header(src, entry)?;
                if kind != BLK_DATA {
                    return Ok(false);
                }
                let ctx = Custom {
                    entries: &self.entries,
                    by_id: &self.by_id,
                    compression: self.header.compression,
                    data_start: self.data_start,
                };
                // Break or not, this one entry was all there was to read.
                let _ = ctx.read_block(src, entry, on_data)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Byte source with offsets and hostile-input checks.

enum Inner {
    File(BufReader<File>),
    Stream(BufReader<Box<dyn Read + Send>>),
}

struct Src {
    inner: Inner,
    path: String,
    /// The archive's name, for advice (the directory, not its `toc.dat`).
    archive: String,
    /// Offset of the next byte.
    pos: u64,
    /// The file's size, when known.
    size: Option<u64>,
    int_size: usize,
    off_size: usize,
    /// Set when a read ran into the end of the input.
    hit_eof: bool,
}

fn io_error(path: &str, source: io::Error) -> Error {
    Error::Input(odump_io::Error::Io {
        path: path.to_string(),
        source,
    })
}

impl Src {
    fn new(path: &str, archive: &str, inner: Inner, size: Option<u64>) -> Self {
        Src {
            inner,
            path: path.to_string(),
            archive: archive.to_string(),
            pos: 0,
            size,
            int_size: 4,
            off_size: 8,
            hit_eof: false,
        }
    }

    fn seekable(&self) -> bool {
        matches!(self.inner, Inner::File(_))
    }

    fn error(&self, offset: u64, detail: impl Into<String>) -> Error {
        Error::Archive {
            path: self.path.clone(),
            offset,
            detail: detail.into(),
        }
    }

    /// The input ended while reading `what`: the archive was cut short.
    fn truncated(&mut self, what: &str) -> Error {
        self.hit_eof = true;
        self.ends(format!("in the middle of {what}"))
    }

    /// The input ends here, `what` (`before the data of …`): the archive was cut short.
    fn ends(&self, what: String) -> Error {
        self.ends_at(self.pos, what)
    }

    /// The input ends at `offset` (its size), `what`.
    fn ends_at(&self, offset: u64, what: String) -> Error {
        Error::Truncated {
            path: self.path.clone(),
            offset,
            what,
        }
    }

    /// Reads up to `out.len()` bytes; 0 only at the end of the input.
    fn read_some(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let got = match &mut self.inner {
                Inner::File(r) => r.fill_buf(),
                Inner::Stream(r) => r.fill_buf(),
            };
            let n = match got {
                Ok(avail) => {
                    let n = avail.len().min(out.len());
                    out[..n].copy_from_slice(&avail[..n]);
                    n
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(&self.path, e)),
            };
            self.consume(n);
            return Ok(n);
        }
    }

    fn consume(&mut self, n: usize) {
        match &mut self.inner {
            Inner::File(r) => r.consume(n),
            Inner::Stream(r) => r.consume(n),
        }
        self.pos += n as u64;
    }

    fn read_exact(&mut self, out: &mut [u8], what: &str) -> Result<(), Error> {
        let mut done = 0;
        while done < out.len() {
            match self.read_some(&mut out[done..])? {
                0 => return Err(self.truncated(what)),
                n => done += n,
            }
        }
        Ok(())
    }

    /// One byte, `None` at the end of the input.
    fn try_u8(&mut self) -> Result<Option<u8>, Error> {
        let mut b = [0u8];
        Ok(match self.read_some(&mut b)? {
            0 => None,
            _ => Some(b[0]),
        })
    }

    fn read_u8(&mut self, what: &str) -> Result<u8, Error> {
        match self.try_u8()? {
            Some(b) => Ok(b),
            None => Err(self.truncated(what)),
        }
    }

    /// An archive integer: a sign byte, then `int_size` bytes, least significant first.
    fn read_int(&mut self, what: &str) -> Result<i32, Error> {
        let start = self.pos;
        let sign = self.read_u8(what)?;
        let magnitude = self.read_le(self.int_size, what)?;
        let max = if sign != 0 {
            1u64 << 31
        } else {
            i32::MAX as u64
        };
        match magnitude {
            Some(m) if m <= max => {
                let v = m as i64;
                Ok((if sign != 0 { -v } else { v }) as i32)
            }
            _ => Err(self.error(
                start,
                format!("{what}: integer out of range; the archive is corrupt, {REDOWNLOAD}"),
            )),
        }
    }

    /// `n` little-endian bytes; `None` when the value does not fit in 64 bits.
    fn read_le(&mut self, n: usize, what: &str) -> Result<Option<u64>, Error> {
        let mut buf = [0u8; 32];
        self.read_exact(&mut buf[..n], what)?;
        if buf[8.min(n)..n].iter().any(|&b| b != 0) {
            return Ok(None);
        }
        Ok(Some(
            buf[..n.min(8)]
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | b as u64),
        ))
    }

    /// An archive string: `None` for NULL.
    fn read_bytes(&mut self, what: &str) -> Result<Option<Vec<u8>>, Error> {
        let start = self.pos;
        let len = self.read_int(what)?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(self.error(
                start,
                format!(
                    "{what}: negative string length {len}; the archive is corrupt, {REDOWNLOAD}"
                ),
            ));
        }
        let len = len as u64;
        if let Some(size) = self.size {
            if len > size.saturating_sub(self.pos) {
                self.hit_eof = true;
                return Err(self.ends_at(size, format!("in the middle of {what}")));
            }
        }
        if len > MAX_STRING {
            return Err(self.error(
                start,
                format!("{what}: string of {len} bytes, more than this reader accepts ({MAX_STRING}); the archive is corrupt, or {}", convert(&self.archive)),
            ));
        }
        // Grow with the bytes actually read: a corrupt length cannot make us allocate.
        let mut out = Vec::with_capacity(len.min(64 << 10) as usize);
        let mut chunk = [0u8; 8192];
        while (out.len() as u64) < len {
            let want = (len - out.len() as u64).min(chunk.len() as u64) as usize;
            match self.read_some(&mut chunk[..want])? {
                0 => return Err(self.truncated(what)),
                n => out.extend_from_slice(&chunk[..n]),
            }
        }
        Ok(Some(out))
    }

    fn read_string(&mut self, what: &str) -> Result<Option<String>, Error> {
        Ok(self.read_bytes(what)?.map(|b| match String::from_utf8(b) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }))
    }

    /// Skips up to `n` bytes; returns how many were skipped (fewer at the end of the input).
    fn skip(&mut self, n: u64) -> Result<u64, Error> {
        if let (Inner::File(r), Some(size)) = (&mut self.inner, self.size) {
            let n = n.min(size.saturating_sub(self.pos));
            r.seek_relative(n as i64)
                .map_err(|e| io_error(&self.path, e))?;
            self.pos += n;
            return Ok(n);
        }
        let mut left = n;
        while left > 0 {
            let got = match &mut self.inner {
                Inner::File(r) => r.fill_buf(),
                Inner::Stream(r) => r.fill_buf(),
            };
            let k = match got {
                Ok(avail) => avail.len().min(left.min(usize::MAX as u64) as usize),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(&self.path, e)),
            };
            if k == 0 {
                break;
            }
            self.consume(k);
            left -= k as u64;
        }
        Ok(n - left)
    }

    fn seek_to(&mut self, pos: u64) -> Result<(), Error> {
        let Inner::File(r) = &mut self.inner else {
            return Err(self.error(self.pos, "cannot seek in a stream"));
        };
        let delta = pos as i128 - self.pos as i128;
        let res = match i64::try_from(delta) {
            Ok(d) => r.seek_relative(d),
            Err(_) => r.seek(SeekFrom::Start(pos)).map(|_| ()),
        };
        res.map_err(|e| io_error(&self.path, e))?;
        self.pos = pos;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Header and TOC.

fn unsupported(path: &str, detail: String) -> Error {
    Error::Unsupported {
        path: path.to_string(),
        detail,
    }
}

fn read_header(src: &mut Src, directory: bool) -> Result<ArchiveHeader, Error> {
    let mut magic = [0u8; 5];
    let mut got = 0;
    while got < magic.len() {
        match src.read_some(&mut magic[got..])? {
            0 => break,
            n => got += n,
        }
    }
    if got < magic.len() {
        // Like odump-io for a file: too short to say what it is.
        return Err(src.error(
            0,
            format!("{got} bytes, too short for the PGDMP signature: not a pg_dump custom archive or directory toc.dat, or one cut short; {REDOWNLOAD}"),
        ));
    }
    if &magic != b"PGDMP" {
        return Err(src.error(
            0,
            "no PGDMP signature: this is not a pg_dump custom archive or directory toc.dat",
        ));
    }
    let vmaj = src.read_u8("the archive header")?;
    let vmin = src.read_u8("the archive header")?;
    let vrev = src.read_u8("the archive header")?;
    if vmaj != 1 || vmin < MIN_MINOR {
        return Err(unsupported(
            &src.path,
            format!(
                "archive version {vmaj}.{vmin}.{vrev} (pg_dump older than 9.0) is not supported; {}",
                convert(&src.archive)
            ),
        ));
    }
    if vmin > MAX_MINOR {
        return Err(unsupported(
            &src.path,
            format!(
                "archive version {vmaj}.{vmin}.{vrev} is newer than this tool reads (1.{MIN_MINOR} to 1.{MAX_MINOR}, pg_dump 9.0 to 18); {} using that pg_dump's pg_restore",
                convert(&src.archive)
            ),
        ));
    }
    let at = src.pos;
    let int_size = src.read_u8("the archive header")?;
    if !(1..=32).contains(&int_size) {
        return Err(src.error(
            at,
            format!("integer size {int_size} is not plausible; the archive is corrupt"),
        ));
    }
    let at = src.pos;
    let off_size = src.read_u8("the archive header")?;
    if !(1..=32).contains(&off_size) {
        return Err(src.error(
            at,
            format!("offset size {off_size} is not plausible; the archive is corrupt"),
        ));
    }
    src.int_size = int_size as usize;
    src.off_size = off_size as usize;
    let at = src.pos;
    let fmt = src.read_u8("the archive header")?;
    let format = match (fmt, directory) {
        (FORMAT_CUSTOM, false) => ArchiveFormat::Custom,
        (FORMAT_TAR | FORMAT_DIRECTORY, true) => ArchiveFormat::Directory,
        (FORMAT_TAR | FORMAT_DIRECTORY, false) => {
            return Err(unsupported(
                &src.path,
                "this is the toc.dat of a directory-format dump: pass the directory itself".into(),
            ))
        }
        (FORMAT_CUSTOM, true) => {
            return Err(src.error(
                at,
                "toc.dat says custom format, not directory; the dump is corrupt",
            ))
        }
        (other, _) => {
            return Err(src.error(
                at,
                format!("unknown archive format code {other}; the archive is corrupt"),
            ))
        }
    };
    let at = src.pos;
    let compression = if vmin >= K_VERS_1_15 {
        match src.read_u8("the archive header")? {
            0 => Compression::None,
            1 => Compression::Gzip(None),
            2 => Compression::Lz4,
            3 => Compression::Zstd,
            other => {
                return Err(src.error(
                    at,
                    format!(
                        "unknown compression algorithm {other}; the archive is corrupt or {}",
                        convert(&src.archive)
                    ),
                ))
            }
        }
    } else {
        match src.read_int("the archive header")? {
            0 => Compression::None,
            level => Compression::Gzip(Some(level)),
        }
    };
    let mut tm = [0i32; 7];
    for v in tm.iter_mut() {
        *v = src.read_int("the archive creation date")?;
    }
    let [sec, min, hour, mday, mon, year, _isdst] = tm;
    let created = ((0..=61).contains(&sec)
        && (0..60).contains(&min)
        && (0..24).contains(&hour)
        && (1..=31).contains(&mday)
        && (0..12).contains(&mon)
        && (0..=8100).contains(&year))
    .then(|| {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            year + 1900,
            mon + 1,
            mday,
            hour,
            min,
            sec
        )
    });
    let database = src.read_string("the database name")?.unwrap_or_default();
    let server_version = src.read_string("the server version")?.unwrap_or_default();
    let pg_dump_version = src.read_string("the pg_dump version")?.unwrap_or_default();
    Ok(ArchiveHeader {
        version: (vmaj, vmin, vrev),
        int_size,
        off_size,
        format,
        compression,
        database,
        server_version,
        pg_dump_version,
        created,
    })
}

fn read_toc(src: &mut Src, header: &ArchiveHeader) -> Result<Vec<ArchiveTocEntry>, Error> {
    let minor = header.version.1;
    let at = src.pos;
    let count = src.read_int("the TOC entry count")?;
    if !(0..=MAX_ENTRIES).contains(&count) {
        return Err(src.error(
            at,
            format!(
                "a TOC of {count} entries is not plausible; the archive is corrupt, {REDOWNLOAD}"
            ),
        ));
    }
    // A count the file cannot hold (cut short) ends at the first entry past its end.
    let mut entries = Vec::with_capacity((count as usize).min(4096));
    for i in 0..count {
        let start = src.pos;
        let what = format!("TOC entry {} of {count}", i + 1);
        let dump_id = src.read_int(&what)?;
        if dump_id <= 0 {
            return Err(src.error(
                start,
                format!("{what} has dump id {dump_id}; the archive is corrupt"),
            ));
        }
        let had_dumper = src.read_int(&what)? != 0;
        let table_oid = src.read_string(&what)?.unwrap_or_default();
        let oid = src.read_string(&what)?.unwrap_or_default();
        let tag = src.read_string(&what)?.unwrap_or_default();
        let desc = src.read_string(&what)?.unwrap_or_default();
        let section = src.read_int(&what)?;
        let defn = src.read_string(&what)?.unwrap_or_default();
        let drop_stmt = src.read_string(&what)?.unwrap_or_default();
        let copy_stmt = src.read_string(&what)?.unwrap_or_default();
        let namespace = src.read_string(&what)?;
        let tablespace = src.read_string(&what)?.unwrap_or_default();
        let table_am = if minor >= K_VERS_1_14 {
            src.read_string(&what)?.unwrap_or_default()
        } else {
            String::new()
        };
        let relkind = if minor >= K_VERS_1_16 {
            src.read_int(&what)?
        } else {
            0
        };
        let owner = src.read_string(&what)?;
        let _with_oids = src.read_bytes(&what)?;
        let mut deps = Vec::new();
        loop {
            let at = src.pos;
            let Some(dep) = src.read_string(&what)? else {
                break;
            };
            let dep = dep.trim().parse::<i32>().map_err(|_| {
                src.error(
                    at,
                    format!("{what}: dependency {dep:?} is not a dump id; the archive is corrupt"),
                )
            })?;
            if deps.len() >= MAX_DEPS {
                return Err(src.error(
                    at,
                    format!("{what}: too many dependencies; the archive is corrupt"),
                ));
            }
            deps.push(dep);
        }
        let at = src.pos;
        let data = match header.format {
            ArchiveFormat::Custom => {
                let flag = src.read_u8(&what)?;
                let offset = src.read_le(src.off_size, &what)?;
                match (flag, offset) {
                    (K_OFFSET_NO_DATA, _) => DataLocation::None,
                    (K_OFFSET_POS_NOT_SET, _) => DataLocation::NotSet,
                    (K_OFFSET_POS_SET, Some(o)) => DataLocation::Offset(o),
                    (K_OFFSET_POS_SET, None) => {
                        return Err(src.error(at, format!("{what}: data offset out of range; the archive is corrupt")))
                    }
                    (other, _) => {
                        return Err(src.error(
                            at,
                            format!("{what}: unexpected data offset flag {other}; the archive is corrupt"),
                        ))
                    }
                }
            }
            ArchiveFormat::Directory => match src.read_string(&what)? {
                None => DataLocation::None,
                Some(f) if f.is_empty() => DataLocation::None,
                Some(f) if safe_file_name(&f) => DataLocation::File(f),
                Some(f) => {
                    return Err(src.error(
                        at,
                        format!("{what}: data file name {f:?} is not a plain file name; the dump is corrupt or hostile"),
                    ))
                }
            },
        };
        let none_if_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
        entries.push(ArchiveTocEntry {
            dump_id,
            had_dumper,
            table_oid,
            oid,
            toc: TocEntry {
                name: tag,
                kind: desc,
                schema: none_if_empty(namespace),
                owner: none_if_empty(owner),
            },
            section,
            defn,
            drop_stmt,
            copy_stmt,
            tablespace,
            table_am,
            relkind,
            deps,
            data,
        });
    }
    Ok(entries)
}

/// A name inside the dump directory, never a path out of it.
fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0', ':'])
}

// ---------------------------------------------------------------------------------------------
// Custom archive data.

struct Custom<'a> {
    entries: &'a [ArchiveTocEntry],
    by_id: &'a HashMap<i32, usize>,
    compression: Compression,
    data_start: u64,
}

fn read_block_header(src: &mut Src, entry: &ArchiveTocEntry) -> Result<u8, Error> {
    let at = src.pos;
    let what = format!("the data block header of {}", entry.describe());
    let kind = src.read_u8(&what)?;
    let id = src.read_int(&what)?;
    if id != entry.dump_id {
        return Err(src.error(
            at,
            format!(
                "the data offset of {} leads to the block of dump id {id}; the archive is corrupt, {REDOWNLOAD}",
                entry.describe()
            ),
        ));
    }
    check_block_kind(src, at, kind)?;
    Ok(kind)
}

fn check_block_kind(src: &Src, at: u64, kind: u8) -> Result<(), Error> {
    match kind {
        BLK_DATA | BLK_BLOBS => Ok(()),
        other => Err(src.error(
            at,
            format!("unknown data block type {other}; the archive is corrupt, {REDOWNLOAD}"),
        )),
    }
}

impl Custom<'_> {
    /// Offsets can be followed when every entry with data has one, distinct, after the TOC.
    fn offsets_usable(&self) -> bool {
        let mut seen = std::collections::HashSet::new();
        self.entries.iter().all(|e| match e.data {
            DataLocation::None => true,
            DataLocation::Offset(o) => o >= self.data_start && seen.insert(o),
            _ => false,
        })
    }

    fn unsupported_data(&self, src: &Src, entry: &ArchiveTocEntry) -> Option<Error> {
        let algo = match self.compression {
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
            _ => return None,
        };
        Some(unsupported(
            &src.path,
            format!(
                "the data of {} is compressed with {algo}, which this tool does not decode; {}",
                entry.describe(),
                convert(&src.archive)
            ),
        ))
    }

    /// Reads a wanted table-data block whose header has just been read.
    fn read_block(
        &self,
        src: &mut Src,
        entry: &ArchiveTocEntry,
        on_data: &mut OnData<'_>,
    ) -> Result<ControlFlow<()>, Error> {
        if let Some(e) = self.unsupported_data(src, entry) {
            return Err(e);
        }
        let what = format!("the data block of {} in {}", entry.describe(), src.path);
        let mut chunks = Chunks::new(src, entry);
        let strip = !entry.copy_stmt.is_empty();
        let (res, zfault) = match self.compression {
            Compression::Gzip(_) => {
                let mut z = ZlibReader::new(&mut chunks);
                let res = hand_over(entry, &mut z, strip.then_some(what), on_data);
                (res, z.fault.take())
            }
            _ => (
                hand_over(entry, &mut chunks, strip.then_some(what), on_data),
                None,
            ),
        };
        if let Some(fault) = chunks.fault.take() {
            return Err(fault);
        }
        if let Some(fault) = zfault {
            return Err(fault);
        }
        let flow = res?;
        if flow.is_continue() {
            chunks.skip_rest()?;
        }
        Ok(flow)
    }

    /// Walks blocks from the current position (the end of the TOC) to the end of the file.
    fn visit_sequential(
        &self,
        src: &mut Src,
        want: &mut dyn FnMut(&ArchiveTocEntry) -> bool,
        on_data: &mut OnData<'_>,
    ) -> Result<DataVisit, Error> {
        let mut seen = vec![false; self.entries.len()];
        let mut visit = DataVisit::default();
        loop {
            let at = src.pos;
            let Some(kind) = src.try_u8()? else { break };
            let id = src.read_int("a data block header")?;
            check_block_kind(src, at, kind)?;
            // A block of an id the TOC does not have, or seen before, is skipped.
            let index = self.by_id.get(&id).copied().filter(|&i| !seen[i]);
            if let Some(i) = index {
                let entry = &self.entries[i];
                if kind == BLK_DATA && want(entry) {
                    seen[i] = true;
                    visit.blocks_seen += 1;
                    if self.read_block(src, entry, on_data)?.is_break() {
                        visit.stopped = true;
                        return Ok(visit);
                    }
                    continue;
                }
            }
            if kind == BLK_BLOBS {
                skip_blobs(src)?;
            } else {
                skip_chunks(src)?;
            }
            visit.blocks_seen += 1;
            if let Some(i) = index {
                seen[i] = true;
            }
        }
        // pg_dump writes a block for every entry with data, in TOC order after the TOC: a file
        // that ends before all of them was cut short at a block boundary.
        let missing = self.missing(|i| !seen[i]);
        if let Some(&first) = missing.first() {
            return Err(src.ends(self.before(first, missing.len())));
        }
        Ok(visit)
    }

    /// `before the data of TABLE DATA … (and N more entries)`.
    fn before(&self, dump_id: i32, missing: usize) -> String {
        let what = self.by_id.get(&dump_id).map_or_else(
            || format!("dump id {dump_id}"),
            |&i| self.entries[i].describe(),
        );
        match missing {
            0 | 1 => format!("before the data of {what}"),
            n => format!("before the data of {what} and {} more entries", n - 1),
        }
    }

    /// Jumps from block to block with the TOC's offsets, in file order.
    fn visit_by_offsets(
        &self,
        src: &mut Src,
        want: &mut dyn FnMut(&ArchiveTocEntry) -> bool,
        on_data: &mut OnData<'_>,
    ) -> Result<DataVisit, Error> {
        let mut order: Vec<(u64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e.data {
                DataLocation::Offset(o) => Some((o, i)),
                _ => None,
            })
            .collect();
        order.sort_unstable();
        let size = src.size.unwrap_or(u64::MAX);
        let header_len = 2 + src.int_size as u64;
        let mut visit = DataVisit::default();
        for (k, &(offset, i)) in order.iter().enumerate() {
            src.hit_eof = false;
            let entry = &self.entries[i];
            if offset.saturating_add(header_len) > size {
                // Blocks are in offset order: this one and every later one are cut off.
                let what = self.before(entry.dump_id, order.len() - k);
                return Err(src.ends_at(size, format!("{what}, which starts at byte {offset}")));
            }
            src.seek_to(offset)?;
            let kind = read_block_header(src, entry)?;
            if kind == BLK_DATA && want(entry) {
                visit.blocks_seen += 1;
                if self.read_block(src, entry, on_data)?.is_break() {
                    visit.stopped = true;
                    return Ok(visit);
                }
                continue;
            }
            // The next block's offset bounds this one; walk it only when that bound is not in
            // the file, to find out whether the file ends inside it.
            let whole = order.get(k + 1).is_some_and(|&(next, _)| next <= size);
            if !whole {
                if kind == BLK_BLOBS {
                    skip_blobs(src)?;
                } else {
                    skip_chunks(src)?;
                }
            }
            visit.blocks_seen += 1;
        }
        Ok(visit)
    }

    /// Dump ids, in TOC order, of entries with data for which `lost(index)`.
    fn missing(&self, lost: impl Fn(usize) -> bool) -> Vec<i32> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, e)| e.data != DataLocation::None && lost(*i))
            .map(|(_, e)| e.dump_id)
            .collect()
    }
}

fn skip_chunks(src: &mut Src) -> Result<(), Error> {
    loop {
        let at = src.pos;
        let len = src.read_int("a data chunk length")?;
        if len == 0 {
            return Ok(());
        }
        if len < 0 {
            return Err(src.error(
                at,
                format!("negative data chunk length {len}; the archive is corrupt, {REDOWNLOAD}"),
            ));
        }
        if src.skip(len as u64)? < len as u64 {
            return Err(src.truncated("a data block"));
        }
    }
}

fn skip_blobs(src: &mut Src) -> Result<(), Error> {
    while src.read_int("a large object header")? != 0 {
        skip_chunks(src)?;
    }
    Ok(())
}

/// Hands a block's bytes to `on_data`: COPY data (`copy` names it for messages) without its end
/// marker, anything else as it is.
fn hand_over(
    entry: &ArchiveTocEntry,
    reader: &mut dyn Read,
    copy: Option<String>,
    on_data: &mut OnData<'_>,
) -> Result<ControlFlow<()>, Error> {
    match copy {
        Some(what) => on_data(entry, &mut CopyRows::new(reader, what)),
        None => on_data(entry, reader),
    }
}

/// The chunk list of one data block as a byte stream. Faults are kept with their offsets and
/// reported by the visit; the consumer sees an `io::Error` with the same message.
struct Chunks<'a> {
    src: &'a mut Src,
    what: String,
    /// Bytes left in the current chunk.
    left: u64,
    done: bool,
    fault: Option<Error>,
}

impl<'a> Chunks<'a> {
    fn new(src: &'a mut Src, entry: &ArchiveTocEntry) -> Self {
        Chunks {
            src,
            what: format!("the data of {}", entry.describe()),
            left: 0,
            done: false,
            fault: None,
        }
    }

    fn fail(&mut self, e: Error) -> io::Error {
        let kind = if self.src.hit_eof {
            io::ErrorKind::UnexpectedEof
        } else {
            io::ErrorKind::InvalidData
        };
        let io = io::Error::new(kind, e.to_string());
        self.fault = Some(e);
        io
    }

    fn next_chunk(&mut self) -> Result<(), Error> {
        let at = self.src.pos;
        let len = self.src.read_int(&self.what)?;
        if len == 0 {
            self.done = true;
        } else if len < 0 {
            return Err(self.src.error(
                at,
                format!(
                    "{}: negative chunk length {len}; the archive is corrupt, {REDOWNLOAD}",
                    self.what
                ),
            ));
        } else {
            self.left = len as u64;
        }
        Ok(())
    }

    /// Skips what the consumer left of the block.
    fn skip_rest(&mut self) -> Result<(), Error> {
        if let Some(fault) = self.fault.take() {
            return Err(fault);
        }
        loop {
            if self.left > 0 {
                let n = self.src.skip(self.left)?;
                if n < self.left {
                    return Err(self.src.truncated(&self.what));
                }
                self.left = 0;
            }
            if self.done {
                return Ok(());
            }
            self.next_chunk()?;
        }
    }
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(fault) = &self.fault {
            return Err(io::Error::other(fault.to_string()));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        while self.left == 0 {
            if self.done {
                return Ok(0);
            }
            if let Err(e) = self.next_chunk() {
                return Err(self.fail(e));
            }
        }
        let n = self.left.min(buf.len() as u64) as usize;
        match self.src.read_some(&mut buf[..n]) {
            Ok(0) => {
                let e = self.src.truncated(&self.what);
                Err(self.fail(e))
            }
            Ok(n) => {
                self.left -= n as u64;
                Ok(n)
            }
            Err(e) => Err(self.fail(e)),
        }
    }
}

/// Inflates the zlib stream of one block, checking that it ends where the chunks end.
struct ZlibReader<'c, 'a> {
    chunks: &'c mut Chunks<'a>,
    z: Decompress,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    done: bool,
    fault: Option<Error>,
}

impl<'c, 'a> ZlibReader<'c, 'a> {
    fn new(chunks: &'c mut Chunks<'a>) -> Self {
        ZlibReader {
            chunks,
            z: Decompress::new(true),
            buf: vec![0u8; 64 << 10].into_boxed_slice(),
            pos: 0,
            len: 0,
            done: false,
            fault: None,
        }
    }

    fn fail(&mut self, detail: String) -> io::Error {
        let e = self.chunks.src.error(
            self.chunks.src.pos,
            format!(
                "{} is not valid zlib data ({detail}); the archive is damaged, {REDOWNLOAD}",
                self.chunks.what
            ),
        );
        let io = io::Error::new(io::ErrorKind::InvalidData, e.to_string());
        self.fault = Some(e);
        io
    }
}

impl Read for ZlibReader<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(fault) = &self.fault {
            return Err(io::Error::other(fault.to_string()));
        }
        if out.is_empty() || self.done {
            return Ok(0);
        }
        loop {
            if self.pos == self.len {
                let n = self.chunks.read(&mut self.buf)?;
                if n == 0 {
                    return Err(self.fail("the compressed stream ends early".into()));
                }
                self.pos = 0;
                self.len = n;
            }
            let (in0, out0) = (self.z.total_in(), self.z.total_out());
            let status =
                self.z
                    .decompress(&self.buf[self.pos..self.len], out, FlushDecompress::None);
            let status = match status {
                Ok(s) => s,
                Err(e) => return Err(self.fail(e.to_string())),
            };
            let consumed = (self.z.total_in() - in0) as usize;
            let produced = (self.z.total_out() - out0) as usize;
            self.pos += consumed;
            if status == Status::StreamEnd {
                self.done = true;
                return Ok(produced);
            }
            if produced > 0 {
                return Ok(produced);
            }
            if consumed == 0 && self.pos < self.len {
                return Err(self.fail("no progress".into()));
            }
        }
    }
}

/// What the reader over a COPY data block or file fails with at its end when the data lacks
/// pg_dump's `\.` end line: pg_dump ends every table's COPY data with it (even a table without
/// rows: `\.` and two blank lines), so the file was emptied or cut short at a line end. Every
/// row before is handed out first; the `io::Error` (kind `UnexpectedEof`) holds this value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnterminatedData {
    /// One line: which data, and where it ends.
    pub message: String,
    /// Bytes of COPY text handed out before the end.
    pub bytes: u64,
}

impl UnterminatedData {
    /// The value an error from a data reader carries, if it is this one.
    pub fn of(error: &io::Error) -> Option<&UnterminatedData> {
        error.get_ref()?.downcast_ref()
    }
}

impl std::fmt::Display for UnterminatedData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UnterminatedData {}

/// Passes COPY text through, dropping the trailing `\.` end-marker line and the blank lines
/// after it. The marker can only be a whole line at the very end: a backslash in the data is
/// always escaped, so no row reads `\.`. Data without the marker ends with [`UnterminatedData`].
struct CopyRows<R> {
    inner: R,
    /// The data, for messages: `the data file … of TABLE DATA …`.
    what: String,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    /// The end marker was not there.
    unterminated: bool,
    /// The last byte handed out, `None` before the first.
    last: Option<u8>,
    /// Bytes handed out.
    handed: u64,
}

/// Bytes held back until the end is known: the marker, its line end and a few blank lines.
const HOLD: usize = 16;

impl<R: Read> CopyRows<R> {
    fn new(inner: R, what: String) -> Self {
        CopyRows {
            inner,
            what,
            buf: vec![0u8; 64 << 10].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            unterminated: false,
            last: None,
            handed: 0,
        }
    }

    fn unterminated(&self) -> io::Error {
        let bytes = self.handed;
        let message = format!(
            "{} ends at byte {bytes} of its COPY text without pg_dump's end-of-data line \\.: it was emptied or cut short",
            self.what
        );
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            UnterminatedData { message, bytes },
        )
    }
}

/// The length of `tail` without a final `\.` line and the line ends after it.
fn strip_end_marker(tail: &[u8], before: Option<u8>) -> usize {
    let mut n = tail.len();
    while n > 0 && matches!(tail[n - 1], b'\n' | b'\r') {
        n -= 1;
    }
    if n >= 2 && &tail[n - 2..n] == b"\\." {
        let prev = if n >= 3 { Some(tail[n - 3]) } else { before };
        if matches!(prev, None | Some(b'\n')) {
            return n - 2;
        }
    }
    tail.len()
}

impl<R: Read> Read for CopyRows<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let avail = self.end - self.start;
            let ready = if self.eof {
                avail
            } else {
                avail.saturating_sub(HOLD)
            };
            if ready > 0 {
                let n = ready.min(out.len());
                out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
                self.start += n;
                self.last = Some(out[n - 1]);
                self.handed += n as u64;
                return Ok(n);
            }
            if self.eof {
                if self.unterminated {
                    return Err(self.unterminated());
                }
                return Ok(0);
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            let n = self.inner.read(&mut self.buf[self.end..])?;
            if n == 0 {
                self.eof = true;
                let len = self.end;
                self.end = strip_end_marker(&self.buf[..len], self.last);
                self.unterminated = self.end == len;
            } else {
                self.end += n;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Directory data.

enum Codec {
    Plain,
    Gzip,
    Other(&'static str),
}

/// The data file on disk for a TOC file name, and how it is compressed; `None` if absent.
fn locate(dir: &Path, name: &str) -> Option<(PathBuf, Codec)> {
    [
        ("", Codec::Plain),
        (".gz", Codec::Gzip),
        (".lz4", Codec::Other("lz4")),
        (".zst", Codec::Other("zstd")),
    ]
    .into_iter()
    .map(|(ext, codec)| (dir.join(format!("{name}{ext}")), codec))
    .find(|(path, _)| path.is_file())
}

fn visit_directory(
    name: &str,
    dir: &Path,
    entries: &[ArchiveTocEntry],
    want: &mut dyn FnMut(&ArchiveTocEntry) -> bool,
    on_data: &mut OnData<'_>,
) -> Result<DataVisit, Error> {
    let mut visit = DataVisit::default();
    for entry in entries {
        let DataLocation::File(file) = &entry.data else {
            continue;
        };
        if locate(dir, file).is_none() {
            visit.missing.push(entry.dump_id);
            continue;
        }
        visit.blocks_seen += 1;
        // Large objects are counted, never offered.
        if entry.is_blobs() || !want(entry) {
            continue;
        }
        if let Some(ControlFlow::Break(())) = read_directory_file(name, dir, file, entry, on_data)?
        {
            visit.stopped = true;
            visit.missing.clear();
            return Ok(visit);
        }
    }
    Ok(visit)
}

/// Reads one data file of a directory; `None` when it does not exist.
fn read_directory_file(
    name: &str,
    dir: &Path,
    file: &str,
    entry: &ArchiveTocEntry,
    on_data: &mut OnData<'_>,
) -> Result<Option<ControlFlow<()>>, Error> {
    let Some((path, codec)) = locate(dir, file) else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    if let Codec::Other(algo) = codec {
        return Err(unsupported(
            &shown,
            format!(
                "the data of {} is compressed with {algo}, which this tool does not decode; {}",
                entry.describe(),
                convert(name)
            ),
        ));
    }
    let f = File::open(&path).map_err(|e| io_error(&shown, e))?;
    let mut reader = FileData {
        inner: match codec {
            Codec::Gzip => FileInner::Gzip(Box::new(flate2::read::MultiGzDecoder::new(
                BufReader::with_capacity(64 << 10, Counted { inner: f, read: 0 }),
            ))),
            _ => FileInner::Plain(Counted { inner: f, read: 0 }),
        },
        path: shown,
        produced: 0,
        fault: None,
    };
    let copy = (!entry.copy_stmt.is_empty())
        .then(|| format!("the data file {} of {}", reader.path, entry.describe()));
    let res = hand_over(entry, &mut reader, copy, on_data);
    if let Some(fault) = reader.fault.take() {
        return Err(fault);
    }
    res.map(Some)
}

/// Counts bytes read from a file.
struct Counted {
    inner: File,
    read: u64,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

enum FileInner {
    Plain(Counted),
    Gzip(Box<flate2::read::MultiGzDecoder<BufReader<Counted>>>),
}

/// A directory data file, with its faults kept as [`Error`]s.
struct FileData {
    inner: FileInner,
    path: String,
    produced: u64,
    fault: Option<Error>,
}

impl Read for FileData {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(fault) = &self.fault {
            return Err(io::Error::other(fault.to_string()));
        }
        let res = match &mut self.inner {
            FileInner::Plain(r) => r.read(buf),
            FileInner::Gzip(r) => r.read(buf),
        };
        match res {
            Ok(n) => {
                self.produced += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let fault = match &self.inner {
                    FileInner::Plain(_) => {
                        io_error(&self.path, io::Error::new(e.kind(), e.to_string()))
                    }
                    FileInner::Gzip(r) => {
                        let offset = r.get_ref().get_ref().read;
                        if e.kind() == io::ErrorKind::UnexpectedEof {
                            Error::Input(odump_io::Error::Truncated {
                                path: self.path.clone(),
                                container: "gzip".into(),
                                offset,
                                decompressed: self.produced,
                            })
                        } else {
                            Error::Input(odump_io::Error::Corrupt {
                                path: self.path.clone(),
                                container: "gzip".into(),
                                offset,
                                detail: e.to_string(),
                            })
                        }
                    }
                };
                let io = io::Error::new(e.kind(), fault.to_string());
                self.fault = Some(fault);
                Err(io)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::{Cursor, Write};
    use std::process::Command;

    // -----------------------------------------------------------------------------------------
    // A writer of synthetic archives, for versions and damage the local pg_dump cannot produce.

    struct W {
        b: Vec<u8>,
        minor: u8,
        /// Positions of the offset fields, by dump id, to patch once blocks are written.
        offset_fields: Vec<(i32, usize)>,
    }

    impl W {
        fn new(minor: u8) -> Self {
            W {
                b: Vec::new(),
                minor,
                offset_fields: Vec::new(),
            }
        }
        fn byte(&mut self, v: u8) {
            self.b.push(v);
        }
        fn int(&mut self, v: i32) {
            self.b.push((v < 0) as u8);
            self.b.extend_from_slice(&v.unsigned_abs().to_le_bytes());
        }
        fn str(&mut self, s: Option<&str>) {
            match s {
                None => self.int(-1),
                Some(s) => {
                    self.int(s.len() as i32);
                    self.b.extend_from_slice(s.as_bytes());
                }
            }
        }
        fn header(&mut self, format: u8, compression: Compression) {
            self.b.extend_from_slice(b"PGDMP");
            for v in [1, self.minor, 0, 4, 8, format] {
                self.byte(v);
            }
            if self.minor >= 15 {
                self.byte(match compression {
                    Compression::None => 0,
                    Compression::Gzip(_) => 1,
                    Compression::Lz4 => 2,
                    Compression::Zstd => 3,
                });
            } else {
                self.int(match compression {
                    Compression::Gzip(level) => level.unwrap_or(-1),
                    _ => 0,
                });
            }
            for v in [5, 4, 3, 2, 0, 124, 0] {
                self.int(v);
            }
            self.str(Some("testdb"));
            self.str(Some("16.1"));
            self.str(Some("16.1"));
        }
        #[allow(clippy::too_many_arguments)]
        fn entry(
            &mut self,
            id: i32,
            dumper: bool,
            tag: &str,
            desc: &str,
            copy: &str,
            deps: &[i32],
            extra: Option<&str>,
        ) {
            self.int(id);
            self.int(dumper as i32);
            self.str(Some("1259"));
            self.str(Some(&(16000 + id).to_string()));
            self.str(Some(tag));
            self.str(Some(desc));
            self.int(if dumper { 3 } else { 2 });
            self.str(Some(&format!("-- defn of {tag}\n")));
            self.str(Some(""));
            self.str(Some(copy));
            self.str(Some("public"));
            self.str(Some(""));
            if self.minor >= 14 {
                self.str(Some("heap"));
            }
            if self.minor >= 16 {
                self.int(b'r' as i32);
            }
            self.str(Some("odoo"));
            self.str(Some("false"));
            for d in deps {
                self.str(Some(&d.to_string()));
            }
            self.str(None);
            match extra {
                Some(file) => self.str(Some(file)),
                None => {
                    self.offset_fields.push((id, self.b.len()));
                    self.byte(if dumper {
                        K_OFFSET_POS_NOT_SET
                    } else {
                        K_OFFSET_NO_DATA
                    });
                    self.b.extend_from_slice(&[0; 8]);
                }
            }
        }
        fn chunks(&mut self, data: &[u8], compress: bool) {
            let bytes = if compress {
                let mut z =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                z.write_all(data).unwrap();
                z.finish().unwrap()
            } else {
                data.to_vec()
            };
            for chunk in bytes.chunks(7) {
                self.int(chunk.len() as i32);
                self.b.extend_from_slice(chunk);
            }
            self.int(0);
        }
        /// Starts a block, recording its offset when `offsets`.
        fn block(&mut self, kind: u8, id: i32, offsets: bool) {
            if offsets {
                let start = self.b.len() as u64;
                let field = self.offset_fields.iter().find(|(i, _)| *i == id).unwrap().1;
                self.b[field] = K_OFFSET_POS_SET;
                self.b[field + 1..field + 9].copy_from_slice(&start.to_le_bytes());
            }
            self.byte(kind);
            self.int(id);
        }
    }

    const T_ROWS: &[u8] = b"x\ty\n\\N\n";
    const U_ROWS: &[u8] = b"1\n2\n";

    /// A custom archive: a table and its data, large objects, a second table's data.
    fn synthetic(minor: u8, compression: Compression, offsets: bool) -> Vec<u8> {
        let mut w = W::new(minor);
        w.header(FORMAT_CUSTOM, compression);
        w.int(5);
        w.entry(1, false, "ENCODING", "ENCODING", "", &[], None);
        w.entry(2, false, "t", "TABLE", "", &[], None);
        w.entry(
            3,
            true,
            "t",
            "TABLE DATA",
            "COPY public.t (a, b) FROM stdin;\n",
            &[2],
            None,
        );
        w.entry(4, true, "BLOBS", "BLOBS", "", &[], None);
        w.entry(
            5,
            true,
            "u",
            "TABLE DATA",
            "COPY public.u (n) FROM stdin;\n",
            &[1, 2],
            None,
        );
        let gz = compression != Compression::None;
        w.block(BLK_DATA, 3, offsets);
        w.chunks(&[T_ROWS, b"\\.\n\n\n"].concat(), gz);
        w.block(BLK_BLOBS, 4, offsets);
        w.int(16401);
        w.chunks(b"large object bytes", gz);
        w.int(0);
        w.block(BLK_DATA, 5, offsets);
        w.chunks(&[U_ROWS, b"\\.\n\n\n"].concat(), gz);
        w.b
    }

    fn stream(bytes: Vec<u8>) -> odump_io::Archive {
        odump_io::Archive::Stream(Box::new(Cursor::new(bytes)))
    }

    fn file(bytes: &[u8]) -> (tempfile::NamedTempFile, odump_io::Archive) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        let handle = f.reopen().unwrap();
        (f, odump_io::Archive::File(handle))
    }

    /// Reads every table data entry: (visit, data by dump id).
    fn read_all(reader: &mut ArchiveReader) -> Result<(DataVisit, BTreeMap<i32, Vec<u8>>), Error> {
        let mut data = BTreeMap::new();
        let visit = reader.for_each_data(&mut |_| true, &mut |entry, r| {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf).map_err(|e| io_error("test", e))?;
            data.insert(entry.dump_id, buf);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok((visit, data))
    }

    #[test]
    fn archive_synthetic_versions_compressions_and_offsets() {
        for minor in 12..=16 {
            for compression in [Compression::None, Compression::Gzip(None)] {
                let compression = match (compression, minor < 15) {
                    (Compression::Gzip(_), true) => Compression::Gzip(Some(-1)),
                    (c, _) => c,
                };
                for offsets in [false, true] {
                    let bytes = synthetic(minor, compression, offsets);
                    let (_tmp, as_file) = file(&bytes);
                    for archive in [stream(bytes.clone()), as_file] {
                        let ctx = format!("1.{minor} {compression:?} offsets={offsets}");
                        let mut r = ArchiveReader::open("synthetic", archive).expect(&ctx);
                        let h = r.header().clone();
                        assert_eq!(h.version, (1, minor, 0), "{ctx}");
                        assert_eq!(h.compression, compression, "{ctx}");
                        assert_eq!(h.database, "testdb");
                        assert_eq!(h.created.as_deref(), Some("2024-01-02 03:04:05"));
                        let e = &r.entries()[2];
                        assert_eq!(e.toc.kind, "TABLE DATA");
                        assert_eq!(e.toc.schema.as_deref(), Some("public"));
                        assert_eq!(e.toc.owner.as_deref(), Some("odoo"));
                        assert_eq!(e.deps, [2]);
                        assert_eq!(e.table_am, if minor >= 14 { "heap" } else { "" });
                        assert_eq!(e.relkind, if minor >= 16 { b'r' as i32 } else { 0 });
                        assert_eq!(e.oid, "16003");
                        assert_eq!(r.entries()[0].data, DataLocation::None);
                        let (visit, data) = read_all(&mut r).expect(&ctx);
                        assert_eq!(visit.blocks_seen, 3, "{ctx}");
                        assert!(visit.missing.is_empty() && !visit.stopped, "{ctx}");
                        assert_eq!(data.get(&3).map(Vec::as_slice), Some(T_ROWS), "{ctx}");
                        assert_eq!(data.get(&5).map(Vec::as_slice), Some(U_ROWS), "{ctx}");
                        assert_eq!(data.len(), 2, "large objects are not offered: {ctx}");
                    }
                }
            }
        }
    }

    #[test]
    fn archive_read_entry_data_seeks_only_with_offsets() {
        let grab = |r: &mut ArchiveReader, id| {
            let mut got = None;
            let ok = r
                .read_entry_data(id, &mut |_, rd| {
                    let mut v = Vec::new();
                    rd.read_to_end(&mut v).unwrap();
                    got = Some(v);
                    Ok(ControlFlow::Continue(()))
                })
                .unwrap();
            (ok, got)
        };
        let bytes = synthetic(14, Compression::Gzip(Some(-1)), true);
        let (_tmp, archive) = file(&bytes);
        let mut r = ArchiveReader::open("t", archive).unwrap();
        assert_eq!(grab(&mut r, 5), (true, Some(U_ROWS.to_vec())));
        assert_eq!(grab(&mut r, 3), (true, Some(T_ROWS.to_vec())));
        assert_eq!(grab(&mut r, 4), (false, None), "large objects");
        assert_eq!(grab(&mut r, 99), (false, None), "unknown id");
        // Seeking does not disturb a later visit.
        assert_eq!(read_all(&mut r).unwrap().1.len(), 2);
        let mut r = ArchiveReader::open("t", stream(bytes)).unwrap();
        assert_eq!(grab(&mut r, 5), (false, None), "a stream cannot seek");
        let bytes = synthetic(14, Compression::None, false);
        let (_tmp, archive) = file(&bytes);
        let mut r = ArchiveReader::open("t", archive).unwrap();
        assert_eq!(grab(&mut r, 5), (false, None), "offsets not set");
    }

    #[test]
    fn archive_want_break_and_stream_reuse() {
        let bytes = synthetic(16, Compression::Gzip(None), false);
        let mut r = ArchiveReader::open("t", stream(bytes)).unwrap();
        let mut offered = Vec::new();
        let visit = r
            .for_each_data(
                &mut |e| {
                    offered.push(e.dump_id);
                    e.dump_id == 5
                },
                &mut |e, _| {
                    assert_eq!(e.dump_id, 5);
                    Ok(ControlFlow::Break(()))
                },
            )
            .unwrap();
        assert_eq!(offered, [3, 5]);
        assert!(visit.stopped && visit.missing.is_empty());
        let again = r.for_each_data(&mut |_| true, &mut |_, _| Ok(ControlFlow::Continue(())));
        assert!(matches!(again, Err(Error::Unsupported { .. })), "{again:?}");
        // A consumer reading part of a block: the rest is skipped.
        let bytes = synthetic(15, Compression::Gzip(None), true);
        let (_tmp, archive) = file(&bytes);
        let mut r = ArchiveReader::open("t", archive).unwrap();
        let mut firsts = Vec::new();
        r.for_each_data(&mut |_| true, &mut |_, rd| {
            let mut b = [0u8; 1];
            rd.read_exact(&mut b).unwrap();
            firsts.push(b[0]);
            Ok(ControlFlow::Continue(()))
        })
        .unwrap();
        assert_eq!(firsts, b"x1");
    }

    #[test]
    fn archive_lz4_toc_reads_but_data_is_unsupported() {
        let mut bytes = synthetic(16, Compression::None, false);
        bytes[11] = 2; // the compression byte of a 1.16 header
        let mut r = ArchiveReader::open("lz4.dump", stream(bytes.clone())).unwrap();
        assert_eq!(r.header().compression, Compression::Lz4);
        let visit = r
            .for_each_data(&mut |_| false, &mut |_, _| unreachable!())
            .unwrap();
        assert_eq!(visit.blocks_seen, 3);
        let mut r = ArchiveReader::open("lz4.dump", stream(bytes)).unwrap();
        let err = r
            .for_each_data(&mut |_| true, &mut |_, _| unreachable!())
            .unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains("pg_restore -f -"), "{err}");
    }

    fn open_err(bytes: Vec<u8>) -> Error {
        match ArchiveReader::open("bad.dump", stream(bytes)) {
            Ok(_) => panic!("opened a bad archive"),
            Err(e) => e,
        }
    }

    #[test]
    fn archive_hostile_headers_and_tocs() {
        // A TOC string claiming 2 GiB, in a stream of unknown size: an error, no allocation.
        let mut w = W::new(14);
        w.header(FORMAT_CUSTOM, Compression::None);
        w.int(1);
        w.int(1);
        w.int(0);
        let at = w.b.len() as u64;
        w.int(i32::MAX);
        let e = open_err(w.b.clone());
        assert!(
            matches!(e, Error::Archive { offset, .. } if offset == at),
            "{e}"
        );
        // Past the file's size, it says so at once.
        let (_tmp, archive) = file(&w.b);
        let e = ArchiveReader::open("bad.dump", archive).err().unwrap();
        assert!(e.to_string().contains("truncated"), "{e}");
        // Over the cap but within reach.
        let mut w2 = W::new(14);
        w2.header(FORMAT_CUSTOM, Compression::None);
        w2.int(1);
        w2.int(1);
        w2.int(0);
        w2.int(300 << 20);
        assert!(open_err(w2.b)
            .to_string()
            .contains("more than this reader accepts"));
        // A huge entry count is corrupt; a plausible one the file cannot hold, truncated.
        let mut w = W::new(14);
        w.header(FORMAT_CUSTOM, Compression::None);
        w.int(i32::MAX);
        let (_tmp, archive) = file(&w.b);
        let e = ArchiveReader::open("bad.dump", archive).err().unwrap();
        assert!(matches!(e, Error::Archive { .. }), "{e}");
        assert!(e.to_string().contains("not plausible"), "{e}");
        let mut w = W::new(14);
        w.header(FORMAT_CUSTOM, Compression::None);
        w.int(1000);
        let (_tmp, archive) = file(&w.b);
        let e = ArchiveReader::open("bad.dump", archive).err().unwrap();
        assert!(
            matches!(e, Error::Truncated { offset, .. } if offset == w.b.len() as u64),
            "{e}"
        );
        let mut neg = W::new(14);
        neg.header(FORMAT_CUSTOM, Compression::None);
        neg.int(-5);
        assert!(matches!(open_err(neg.b), Error::Archive { .. }));
        // Versions, signature, sizes.
        let good = synthetic(14, Compression::None, false);
        let mut old = good.clone();
        old[6] = 11;
        assert!(matches!(open_err(old), Error::Unsupported { .. }));
        let mut new = good.clone();
        new[6] = 17;
        let e = open_err(new);
        assert!(
            matches!(e, Error::Unsupported { .. }) && e.to_string().contains("1.17"),
            "{e}"
        );
        let mut magic = good.clone();
        magic[0] = b'X';
        assert!(matches!(open_err(magic), Error::Archive { offset: 0, .. }));
        let mut int0 = good.clone();
        int0[8] = 0;
        assert!(matches!(open_err(int0), Error::Archive { offset: 8, .. }));
        let mut tar = good.clone();
        tar[10] = FORMAT_TAR;
        assert!(open_err(tar).to_string().contains("pass the directory"));
        // An integer wider than 32 bits.
        let mut wide = good.clone();
        let count_at = 11 + 5 + 7 * 5 + (5 + 6) + (5 + 4) * 2;
        wide[count_at + 4] = 0x80;
        assert!(open_err(wide).to_string().contains("out of range"));
        // A bad offset flag.
        let mut w = W::new(14);
        w.header(FORMAT_CUSTOM, Compression::None);
        w.int(1);
        w.entry(7, true, "t", "TABLE DATA", "", &[], None);
        let flag_at = w.offset_fields[0].1;
        w.b[flag_at] = 9;
        assert!(open_err(w.b).to_string().contains("offset flag 9"));
    }

    #[test]
    fn archive_directory_rejects_file_names_outside_the_directory() {
        for name in ["../../etc/passwd", "/etc/passwd", "a/b.dat", ".hidden"] {
            let dir = tempfile::tempdir().unwrap();
            let mut w = W::new(14);
            w.header(FORMAT_TAR, Compression::None);
            w.int(1);
            w.entry(3, true, "t", "TABLE DATA", "", &[], Some(name));
            std::fs::write(dir.path().join("toc.dat"), &w.b).unwrap();
            let archive = odump_io::Archive::Directory(dir.path().to_path_buf());
            let e = ArchiveReader::open("dir", archive).err().unwrap();
            assert!(
                e.to_string().contains("not a plain file name"),
                "{name}: {e}"
            );
        }
    }

    /// Checks one cut archive: no panic, and the cut is reported as [`Error::Truncated`] at the
    /// offset where the file ends, whether it ends in the header, the TOC, a block or between
    /// blocks.
    fn check_cut(archive: odump_io::Archive, cut: usize, full: usize, ctx: &str) {
        let truncated_here = |e: &Error| {
            assert!(
                matches!(e, Error::Truncated { offset, .. } if *offset == cut as u64),
                "{ctx}: cut at {cut} of {full}: not reported as truncated at byte {cut}: {e}"
            );
            assert!(
                e.to_string().contains(&format!("ends at byte {cut}")),
                "{e}"
            );
        };
        let mut r = match ArchiveReader::open("cut.dump", archive) {
            Ok(r) => r,
            Err(e) if cut < 5 => {
                // Too short to be recognised, as odump-io says of a file.
                assert!(e.to_string().contains("too short"), "{ctx}: {e}");
                return;
            }
            Err(e) => return truncated_here(&e),
        };
        match read_all(&mut r) {
            Ok((visit, _)) => assert!(
                cut == full,
                "{ctx}: cut at {cut} of {full} went unnoticed: {visit:?}"
            ),
            Err(e) => truncated_here(&e),
        }
    }

    #[test]
    fn archive_synthetic_cut_anywhere() {
        for (compression, offsets) in [
            (Compression::None, false),
            (Compression::Gzip(None), false),
            (Compression::Gzip(None), true),
        ] {
            let bytes = synthetic(15, compression, offsets);
            for cut in 0..=bytes.len() {
                let part = bytes[..cut].to_vec();
                check_cut(stream(part.clone()), cut, bytes.len(), "stream");
                let (_tmp, archive) = file(&part);
                check_cut(archive, cut, bytes.len(), "file");
            }
        }
    }

    #[test]
    fn archive_end_marker_is_stripped() {
        assert_eq!(strip_end_marker(b"a\n\\.\n\n\n", Some(b'x')), 2);
        assert_eq!(strip_end_marker(b"\\.\n\n\n", None), 0);
        assert_eq!(strip_end_marker(b"\\.\n\n\n", Some(b'\n')), 0);
        assert_eq!(
            strip_end_marker(b"\\.\n", Some(b'a')),
            3,
            "not at a line start"
        );
        assert_eq!(
            strip_end_marker(b"a\t\\\\.\n", None),
            6,
            "an escaped backslash"
        );
        assert_eq!(strip_end_marker(b"a\nb\n", None), 4);
        assert_eq!(strip_end_marker(b"a\r\n\\.\r\n", None), 3);
        /// Hands out one byte per read.
        struct Trickle(Vec<u8>, usize);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                match self.0.get(self.1) {
                    Some(&b) if !buf.is_empty() => {
                        buf[0] = b;
                        self.1 += 1;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        for rows in [&b""[..], b"1\n", b"a\tb\n\\N\tc\n"] {
            let mut out = Vec::new();
            CopyRows::new(Trickle([rows, b"\\.\n\n\n"].concat(), 0), "t".into())
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, rows);
        }
        // Without the marker (a data file emptied or cut at a line end): every row, then the
        // error, at every read after.
        for rows in [&b""[..], b"1\n", b"a\tb\n\\N\tc\n", b"x\n\n\n", b"y\n\\"] {
            let mut r = CopyRows::new(Trickle(rows.to_vec(), 0), "the data file 7.dat".into());
            let mut out = Vec::new();
            let e = r.read_to_end(&mut out).unwrap_err();
            assert_eq!(out, rows);
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
            let cut = UnterminatedData::of(&e).expect("UnterminatedData");
            assert_eq!(cut.bytes, rows.len() as u64);
            assert!(
                cut.message
                    .starts_with(&format!("the data file 7.dat ends at byte {} ", rows.len())),
                "{}",
                cut.message
            );
            assert!(UnterminatedData::of(&r.read(&mut [0u8; 8]).unwrap_err()).is_some());
        }
    }

    // -----------------------------------------------------------------------------------------
    // Real archives from the local PostgreSQL.

    /// The newest PostgreSQL binaries directory on this machine.
    fn pg_bin() -> Option<PathBuf> {
        let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|d| {
                let d = d.ok()?;
                let v = d.file_name().to_str()?.parse().ok()?;
                let bin = d.path().join("bin");
                bin.join("initdb").is_file().then_some((v, bin))
            })
            .collect();
        dirs.sort();
        dirs.pop().map(|(_, bin)| bin)
    }

    fn run(cmd: &mut Command) -> Result<Vec<u8>, String> {
        let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{cmd:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(out.stdout)
    }

    /// A throwaway cluster on a unix socket in its own directory; stopped when dropped.
    struct Cluster {
        bin: PathBuf,
        dir: tempfile::TempDir,
        port: u16,
        as_postgres: bool,
        started: bool,
    }

    impl Cluster {
        fn start() -> Result<Cluster, String> {
            let bin = pg_bin().ok_or("no PostgreSQL under /usr/lib/postgresql")?;
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let uid = run(Command::new("id").arg("-u"))?;
            let as_postgres = String::from_utf8_lossy(&uid).trim() == "0";
            let mut cluster = Cluster {
                bin,
                dir,
                port: 56000 + (std::process::id() % 1000) as u16,
                as_postgres,
                started: false,
            };
            if as_postgres {
                run(Command::new("chown")
                    .arg("-R")
                    .arg("postgres")
                    .arg(cluster.dir.path()))?;
            }
            let data = cluster.dir.path().join("data");
            cluster.server(&format!(
                "{} -D {} -U postgres --auth=trust -N -E UTF8 --locale=C",
                cluster.bin.join("initdb").display(),
                data.display()
            ))?;
            cluster.started = true;
            cluster.server(&format!(
                "{} -D {} -l {} -w -o \"-p {} -k {} -c listen_addresses='' -c fsync=off\" start",
                cluster.bin.join("pg_ctl").display(),
                data.display(),
                cluster.dir.path().join("log").display(),
                cluster.port,
                cluster.dir.path().display()
            ))?;
            Ok(cluster)
        }

        /// Runs a server-side command line, as `postgres` when we are root.
        fn server(&self, line: &str) -> Result<Vec<u8>, String> {
            if self.as_postgres {
                run(Command::new("su").arg("postgres").arg("-c").arg(line))
            } else {
                run(Command::new("sh").arg("-c").arg(line))
            }
        }

        fn client(&self, tool: &str) -> Command {
            let mut cmd = Command::new(self.bin.join(tool));
            cmd.arg("-h")
                .arg(self.dir.path())
                .arg("-p")
                .arg(self.port.to_string())
                .arg("-U")
                .arg("postgres");
            cmd
        }

        fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
            let out = run(self.client("psql").args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                db,
                "-c",
                sql,
            ]))?;
            Ok(String::from_utf8_lossy(&out).trim().to_string())
        }
    }

    impl Drop for Cluster {
        fn drop(&mut self) {
            if self.started {
                let _ = self.server(&format!(
                    "{} -D {} -m immediate stop",
                    self.bin.join("pg_ctl").display(),
                    self.dir.path().join("data").display()
                ));
            }
        }
    }

    const SETUP: &str = r#"
        CREATE TABLE t_text (id int PRIMARY KEY, body text, note varchar(20));
        INSERT INTO t_text VALUES (1, E'tab\there', 'x'), (2, E'new\nline', NULL),
            (3, E'back\\slash \\. dot', 'é ü 漢字'), (4, NULL, NULL), (5, E'crlf\r\nend', ''),
            (6, E'\\.', E'.\\');
        CREATE TABLE t_empty (a int, b text);
        CREATE TABLE t_big (id int, name text, val numeric);
        INSERT INTO t_big SELECT g, 'name ' || g || repeat('x', g % 50), g * 1.5
            FROM generate_series(1, 50000) g;
        CREATE SCHEMA other;
        CREATE TABLE other."Mixed Case" (k text);
        INSERT INTO other."Mixed Case" VALUES ('a'), ('b');
        CREATE SEQUENCE s1;
        SELECT setval('s1', 42);
        CREATE VIEW v1 AS SELECT id, body FROM t_text;
        CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS $$ SELECT x + 1 $$;
        SELECT lo_from_bytea(0, 'large object bytes');
    "#;

    /// What pg_restore prints between each COPY statement and `\.`, keyed by the statement.
    fn restored_rows(bin: &Path, archive: &Path) -> Vec<(String, Vec<u8>)> {
        let out = run(Command::new(bin.join("pg_restore"))
            .args(["-f", "-", "--data-only"])
            .arg(archive))
        .unwrap();
        let mut blocks = Vec::new();
        let mut rest = &out[..];
        while let Some(p) = find(rest, b"\nCOPY ") {
            let stmt_start = p + 1;
            let stmt_end = stmt_start + find(&rest[stmt_start..], b"\n").unwrap() + 1;
            let rows_end = stmt_end + find_line(&rest[stmt_end..], b"\\.\n").unwrap();
            let stmt = String::from_utf8(rest[stmt_start..stmt_end].to_vec()).unwrap();
            blocks.push((stmt, rest[stmt_end..rows_end].to_vec()));
            rest = &rest[rows_end..];
        }
        blocks
    }

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    /// The offset of the first line equal to `line` (which ends in `\n`).
    fn find_line(hay: &[u8], line: &[u8]) -> Option<usize> {
        let mut at = 0;
        loop {
            if hay[at..].starts_with(line) {
                return Some(at);
            }
            at += find(&hay[at..], b"\n")? + 1;
        }
    }

    fn open_path(path: &Path) -> ArchiveReader {
        let input = odump_io::open(path.to_str().unwrap()).unwrap();
        let odump_io::Body::Archive(archive) = input.body else {
            panic!("{} is not an archive", path.display())
        };
        ArchiveReader::open(&input.name, archive).unwrap()
    }

    struct Expect<'a> {
        format: ArchiveFormat,
        compression: Compression,
        seekable_data: bool,
        big_rows: &'a str,
    }

    /// Checks an archive against pg_restore's view of it; returns its data by table name.
    fn check_real(bin: &Path, path: &Path, expect: &Expect<'_>) -> BTreeMap<String, Vec<u8>> {
        let ctx = path.display().to_string();
        let mut r = open_path(path);
        let h = r.header().clone();
        assert_eq!(h.version, (1, 14, 0), "{ctx}");
        assert_eq!((h.int_size, h.off_size), (4, 8));
        assert_eq!(h.format, expect.format, "{ctx}");
        assert_eq!(h.compression, expect.compression, "{ctx}");
        assert_eq!(h.database, "testdb");
        assert!(h.server_version.starts_with("15."), "{ctx}: {h:?}");
        assert!(h.pg_dump_version.starts_with("15."), "{ctx}: {h:?}");
        assert!(h.created.is_some());

        // The TOC, line by line as `pg_restore -l` lists it.
        let listing = run(Command::new(bin.join("pg_restore")).arg("-l").arg(path)).unwrap();
        let listing = String::from_utf8(listing).unwrap();
        let listed: Vec<&str> = listing
            .lines()
            .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
            .collect();
        let ours: Vec<String> = r
            .entries()
            .iter()
            .map(|e| {
                format!(
                    "{}; {} {} {} {} {} {}",
                    e.dump_id,
                    e.table_oid,
                    e.oid,
                    e.toc.kind,
                    e.toc.schema.as_deref().unwrap_or("-"),
                    e.toc.name,
                    e.toc.owner.as_deref().unwrap_or("")
                )
            })
            .collect();
        for line in &listed {
            assert!(
                ours.iter().any(|o| o == line),
                "{ctx}: pg_restore lists {line:?}, we do not"
            );
        }
        for (line, e) in ours.iter().zip(r.entries()) {
            let special = ["ENCODING", "STDSTRINGS", "SEARCHPATH", "DATABASE"];
            assert!(
                listed.contains(&line.as_str()) || special.contains(&e.toc.kind.as_str()),
                "{ctx}: we list {line:?}, pg_restore does not"
            );
        }
        let count = |kind: &str| r.entries().iter().filter(|e| e.toc.kind == kind).count();
        assert_eq!(count("TABLE DATA"), 4, "{ctx}");
        assert_eq!(count("TABLE"), 4, "{ctx}");
        assert_eq!(
            (count("VIEW"), count("FUNCTION"), count("SEQUENCE")),
            (1, 1, 1)
        );
        assert_eq!((count("BLOBS"), count("SEQUENCE SET")), (1, 1));
        let blobs = r.entries().iter().find(|e| e.is_blobs()).unwrap();
        assert_ne!(blobs.data, DataLocation::None);

        // The data, byte for byte as pg_restore prints it.
        let mut offered = Vec::new();
        let mut data = BTreeMap::new();
        let visit = r
            .for_each_data(
                &mut |e| {
                    offered.push(e.toc.kind.clone());
                    true
                },
                &mut |e, rd| {
                    let mut buf = Vec::new();
                    rd.read_to_end(&mut buf).unwrap();
                    data.insert(e.toc.name.clone(), (e.copy_stmt.clone(), buf));
                    Ok(ControlFlow::Continue(()))
                },
            )
            .unwrap();
        assert!(
            offered.iter().all(|k| k == "TABLE DATA"),
            "{ctx}: {offered:?}"
        );
        assert_eq!(
            visit.blocks_seen, 5,
            "{ctx}: four tables and the large objects"
        );
        assert!(
            visit.missing.is_empty() && !visit.stopped,
            "{ctx}: {visit:?}"
        );
        let restored = restored_rows(bin, path);
        assert_eq!(restored.len(), 4, "{ctx}");
        for (stmt, rows) in &restored {
            let (_, (_, ours)) = data
                .iter()
                .find(|(_, (s, _))| s == stmt)
                .unwrap_or_else(|| panic!("{ctx}: no data for {stmt}"));
            assert!(ours == rows, "{ctx}: data of {stmt} differs");
        }
        let big = &data["t_big"].1;
        assert_eq!(
            big.iter().filter(|&&b| b == b'\n').count().to_string(),
            expect.big_rows
        );
        assert!(data["t_empty"].1.is_empty());

        // Straight to one entry.
        let big_id = r
            .entries()
            .iter()
            .find(|e| e.toc.name == "t_big" && e.toc.kind == "TABLE DATA")
            .unwrap()
            .dump_id;
        let mut direct = None;
        let done = r
            .read_entry_data(big_id, &mut |_, rd| {
                let mut buf = Vec::new();
                rd.read_to_end(&mut buf).unwrap();
                direct = Some(buf);
                Ok(ControlFlow::Continue(()))
            })
            .unwrap();
        assert_eq!(done, expect.seekable_data, "{ctx}");
        if done {
            assert!(direct.as_ref() == Some(big), "{ctx}");
        }
        data.into_iter().map(|(k, (_, v))| (k, v)).collect()
    }

    #[test]
    fn archive_real_pg_dump_archives() {
        let started = std::time::Instant::now();
        let cluster = match Cluster::start() {
            Ok(c) => c,
            Err(why) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("cannot start a PostgreSQL cluster: {why}");
                }
                eprintln!("skipping archive_real_pg_dump_archives: cannot start PostgreSQL: {why}");
                return;
            }
        };
        let bin = cluster.bin.clone();
        cluster.psql("postgres", "CREATE DATABASE testdb").unwrap();
        cluster.psql("testdb", SETUP).unwrap();
        let big_rows = cluster
            .psql("testdb", "SELECT count(*) FROM t_big")
            .unwrap();
        assert_eq!(big_rows, "50000");
        let work = tempfile::tempdir().unwrap();
        let w = |name: &str| work.path().join(name);
        let dump = |args: &[&str], out: &Path| {
            run(cluster
                .client("pg_dump")
                .args(args)
                .arg("-f")
                .arg(out)
                .arg("testdb"))
            .unwrap();
        };
        dump(&["-Fc"], &w("c_file.dump"));
        dump(&["-Fc", "-Z0"], &w("c_z0.dump"));
        dump(&["-Fd"], &w("d_gz"));
        dump(&["-Fd", "-Z0"], &w("d_z0"));
        // Written to a pipe, like Odoo's backups: data offsets are not set.
        let mut pipe = cluster.client("pg_dump");
        pipe.args(["-Fc", "testdb"]);
        let piped = run(&mut pipe).unwrap();
        std::fs::write(w("c_pipe.dump"), &piped).unwrap();
        drop(cluster);

        let gzip = |e: Option<i32>| Compression::Gzip(e);
        let custom = |compression, seekable_data| Expect {
            format: ArchiveFormat::Custom,
            compression,
            seekable_data,
            big_rows: &big_rows,
        };
        let directory = |compression| Expect {
            format: ArchiveFormat::Directory,
            compression,
            seekable_data: true,
            big_rows: &big_rows,
        };
        let reference = check_real(&bin, &w("c_file.dump"), &custom(gzip(Some(-1)), true));
        for (name, expect) in [
            ("c_z0.dump", custom(Compression::None, true)),
            ("c_pipe.dump", custom(gzip(Some(-1)), false)),
            ("d_gz", directory(gzip(Some(-1)))),
            ("d_z0", directory(Compression::None)),
        ] {
            let data = check_real(&bin, &w(name), &expect);
            assert!(data == reference, "{name}: data differs from c_file.dump");
        }
        {
            let r = open_path(&w("c_pipe.dump"));
            assert!(r
                .entries()
                .iter()
                .all(|e| matches!(e.data, DataLocation::None | DataLocation::NotSet)));
            let r = open_path(&w("c_file.dump"));
            assert!(r
                .entries()
                .iter()
                .any(|e| matches!(e.data, DataLocation::Offset(_))));
        }

        // The piped archive as a stream, plain and inside gzip.
        let mut r = ArchiveReader::open("stdin", stream(piped.clone())).unwrap();
        let (visit, by_id) = read_all(&mut r).unwrap();
        assert!(visit.missing.is_empty());
        let by_name =
            |r: &ArchiveReader, by_id: BTreeMap<i32, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
                by_id
                    .into_iter()
                    .map(|(id, v)| (r.entry(id).unwrap().toc.name.clone(), v))
                    .collect()
            };
        assert!(by_name(&r, by_id) == reference);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&piped).unwrap();
        std::fs::write(w("c_pipe.dump.gz"), gz.finish().unwrap()).unwrap();
        let mut r = open_path(&w("c_pipe.dump.gz"));
        let (_, by_id) = read_all(&mut r).unwrap();
        assert!(by_name(&r, by_id) == reference);

        // Directory dumps with a missing or cut data file.
        let d = w("d_broken");
        std::fs::create_dir(&d).unwrap();
        for f in std::fs::read_dir(w("d_gz")).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), d.join(f.file_name())).unwrap();
        }
        let r = open_path(&d);
        let file_of = |name: &str| {
            let e = r
                .entries()
                .iter()
                .find(|e| e.toc.name == name && e.toc.kind == "TABLE DATA")
                .unwrap();
            let DataLocation::File(f) = &e.data else {
                panic!()
            };
            (e.dump_id, d.join(format!("{f}.gz")))
        };
        let (text_id, text_file) = file_of("t_text");
        let (big_id, big_file) = file_of("t_big");
        drop(r);
        std::fs::remove_file(text_file).unwrap();
        let big_gz = std::fs::read(&big_file).unwrap();
        std::fs::write(&big_file, &big_gz[..big_gz.len() / 2]).unwrap();
        let mut r = open_path(&d);
        let visit = r
            .for_each_data(&mut |_| false, &mut |_, _| unreachable!())
            .unwrap();
        assert_eq!(visit.missing, [text_id]);
        let err = r
            .for_each_data(&mut |e| e.dump_id == big_id, &mut |_, rd| {
                let mut sink = Vec::new();
                rd.read_to_end(&mut sink)
                    .map_err(|e| io_error("consumer", e))?;
                Ok(ControlFlow::Continue(()))
            })
            .unwrap_err();
        assert!(
            matches!(err, Error::Input(odump_io::Error::Truncated { .. })),
            "{err}"
        );
        let err = r
            .read_entry_data(text_id, &mut |_, _| unreachable!())
            .unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");

        // Cut anywhere: in the header and TOC byte by byte, then across the data.
        let data_start = ArchiveReader::open("p", stream(piped.clone()))
            .unwrap()
            .data_start() as usize;
        let mut cuts: Vec<usize> = (0..data_start.min(3000)).step_by(3).collect();
        cuts.extend((data_start.saturating_sub(40)..(data_start + 40).min(piped.len())).step_by(1));
        cuts.extend((0..120).map(|i| i * piped.len() / 120));
        for &cut in &cuts {
            let part = piped[..cut].to_vec();
            let Ok(input) = odump_io::from_bytes("cut.dump", part) else {
                continue;
            };
            let odump_io::Body::Archive(archive) = input.body else {
                continue;
            };
            check_cut(archive, cut, piped.len(), "piped stream");
        }
        let seekable = std::fs::read(w("c_file.dump")).unwrap();
        for i in 0..60 {
            let cut = i * seekable.len() / 60;
            let (_tmp, archive) = file(&seekable[..cut]);
            check_cut(archive, cut, seekable.len(), "file with offsets");
        }
        eprintln!("archive_real_pg_dump_archives took {:?}", started.elapsed());
    }
}
