//! Odoo backup zips: `dump.sql`, `manifest.json` and `filestore/…` entries.
//!
//! The SQL is always read by walking local file headers forward, so a zip from stdin, or one cut
//! short (no central directory), still yields its `dump.sql`. When the file is seekable and whole,
//! the central directory gives the inventory up front and the walk starts at `dump.sql`.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::fault::StreamFault;
use crate::inflate::{EntryInflater, StoredEntry};

/// The largest `manifest.json` read; Odoo's are a few KiB.
const MANIFEST_LIMIT: u64 = 4 << 20;

/// What an Odoo backup zip holds besides its SQL.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ZipInventory {
    /// Entries seen.
    pub entries: u64,
    /// Whether a `dump.sql` entry was found.
    pub has_dump_sql: bool,
    /// The text of `manifest.json`, if present.
    pub manifest: Option<String>,
    /// Files under `filestore/`.
    pub filestore_files: u64,
    /// Their uncompressed size.
    pub filestore_bytes: u64,
    /// Entry names that would escape the extraction directory (`../`, absolute paths).
    pub unsafe_names: Vec<String>,
    /// The inventory covers the whole zip (central directory read, or the stream read to its end).
    pub complete: bool,
}

impl ZipInventory {
    fn add(&mut self, name: &str, size: u64) {
        self.entries += 1;
        if name.starts_with('/') || name.split(['/', '\\']).any(|part| part == "..") {
            self.unsafe_names.push(name.to_string());
        }
        if name == "dump.sql" {
            self.has_dump_sql = true;
        } else if name.starts_with("filestore/") && !name.ends_with('/') {
            self.filestore_files += 1;
            self.filestore_bytes += size;
        }
    }
}

/// Shared so that a streaming read can complete the inventory as it goes past `dump.sql`.
pub type SharedInventory = Arc<Mutex<ZipInventory>>;

/// Reads the central directory of a seekable zip. `None` when it cannot be read (cut file):
/// the caller then walks the local headers instead.
pub(crate) fn central_inventory<R: Read + Seek>(file: R) -> Option<(ZipInventory, u64)> {
    let mut archive = zip::ZipArchive::new(file).ok()?;
    let mut inventory = ZipInventory::default();
    let mut dump_header = None;
    for i in 0..archive.len() {
        let (name, size, header) = {
            let entry = archive.by_index_raw(i).ok()?;
            (
                entry.name().ok()?.into_owned(),
                entry.size(),
                entry.header_start(),
            )
        };
        inventory.add(&name, size);
        if name == "dump.sql" && dump_header.is_none() {
            dump_header = Some(header);
        } else if name == "manifest.json" {
            let mut text = String::new();
            let entry = archive.by_index(i).ok()?;
            entry.take(MANIFEST_LIMIT).read_to_string(&mut text).ok()?;
            inventory.manifest = Some(text);
        }
    }
    inventory.complete = true;
    Some((inventory, dump_header.unwrap_or(0)))
}

/// One local file header.
struct LocalEntry {
    name: String,
    method: u16,
    has_descriptor: bool,
    crc: u32,
    compressed: u64,
    size: u64,
}

/// A reader that counts the bytes taken from it, for offsets in messages.
pub(crate) struct Counted<R> {
    pub(crate) inner: R,
    pub(crate) offset: u64,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.offset += amt as u64;
        self.inner.consume(amt);
    }
}

fn read_exact_or_truncated<R: BufRead>(r: &mut Counted<R>, buf: &mut [u8]) -> io::Result<()> {
    let start = r.offset;
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            StreamFault::Truncated {
                offset: start,
                produced: 0,
            }
            .into()
        } else {
            e
        }
    })
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}
fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// What follows an entry.
enum Next {
    Entry(LocalEntry),
    /// The central directory (or an end record) starts, after its 4-byte signature.
    Directory(u32),
    /// The input ends where the central directory should start.
    End,
}

/// Reads the next local header.
fn next_local_entry<R: BufRead>(r: &mut Counted<R>) -> io::Result<Next> {
    if r.fill_buf()?.is_empty() {
        return Ok(Next::End);
    }
    let mut fixed = [0u8; 30];
    read_exact_or_truncated(r, &mut fixed[..4])?;
    match le32(&fixed) {
        0x0403_4b50 => {}
        sig @ (0x0201_4b50 | 0x0605_4b50 | 0x0606_4b50) => return Ok(Next::Directory(sig)),
        other => {
            return Err(StreamFault::Corrupt {
                offset: r.offset - 4,
                detail: format!("expected a zip entry header, found {other:08x}"),
            }
            .into())
        }
    }
    read_exact_or_truncated(r, &mut fixed[4..])?;
    let flags = le16(&fixed[6..]);
    let method = le16(&fixed[8..]);
    let crc = le32(&fixed[14..]);
    let mut compressed = u64::from(le32(&fixed[18..]));
    let mut size = u64::from(le32(&fixed[22..]));
    let mut name = vec![0u8; usize::from(le16(&fixed[26..]))];
    let mut extra = vec![0u8; usize::from(le16(&fixed[28..]))];
    read_exact_or_truncated(r, &mut name)?;
    read_exact_or_truncated(r, &mut extra)?;
    // Zip64: sizes of 0xFFFFFFFF are in the 0x0001 extra field.
    let mut rest = &extra[..];
    while rest.len() >= 4 {
        let (id, len) = (le16(rest), usize::from(le16(&rest[2..])));
        let body = &rest[4..(4 + len).min(rest.len())];
        if id == 1 {
            let mut fields = body
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()));
            if size == 0xFFFF_FFFF {
                size = fields.next().unwrap_or(size);
            }
            if compressed == 0xFFFF_FFFF {
                compressed = fields.next().unwrap_or(compressed);
            }
        }
        rest = &rest[(4 + len).min(rest.len())..];
    }
    let has_descriptor = flags & 0x08 != 0;
    Ok(Next::Entry(LocalEntry {
        name: String::from_utf8_lossy(&name).into_owned(),
        method,
        has_descriptor,
        crc,
        compressed,
        size,
    }))
}

/// Walks a zip's entries from `r`: counts them into `inventory`, keeps `manifest.json`, and hands
/// `dump.sql`'s content to `on_dump`. Stops after `dump.sql` when `stop_after_dump`.
pub(crate) fn walk<R: BufRead>(
    r: R,
    start_offset: u64,
    inventory: &SharedInventory,
    stop_after_dump: bool,
    on_dump: &mut dyn FnMut(&mut dyn Read) -> io::Result<()>,
) -> io::Result<()> {
    let mut r = Counted {
        inner: r,
        offset: start_offset,
    };
    let record = !inventory.lock().unwrap().complete;
    loop {
        let entry = match next_local_entry(&mut r)? {
            Next::Entry(entry) => entry,
            Next::Directory(sig) => {
                if record {
                    check_directory_end(&mut r, sig)?;
                }
                break;
            }
            Next::End if record => {
                return Err(StreamFault::Truncated {
                    offset: r.offset,
                    produced: 0,
                }
                .into())
            }
            Next::End => break,
        };
        if record {
            inventory.lock().unwrap().add(&entry.name, entry.size);
        }
        let is_dump = entry.name == "dump.sql";
        let data_offset = r.offset;
        let sizes_known = !entry.has_descriptor || entry.compressed != 0;
        let expected_size = sizes_known.then_some(entry.size);
        let expected_crc = sizes_known.then_some(entry.crc);
        let mut body: Box<dyn Read + '_> = match entry.method {
            0 if sizes_known => Box::new(StoredEntry::new(
                &mut r,
                data_offset,
                entry.compressed,
                entry.crc,
            )),
            8 => {
                let limited: Box<dyn BufRead> = if sizes_known {
                    Box::new((&mut r).take(entry.compressed))
                } else {
                    Box::new(&mut r)
                };
                Box::new(EntryInflater::new(
                    limited,
                    data_offset,
                    expected_crc,
                    expected_size,
                ))
            }
            other => {
                return Err(StreamFault::Corrupt {
                    offset: data_offset,
                    detail: format!(
                        "entry {} uses compression method {other}, which an Odoo backup never does",
                        entry.name
                    ),
                }
                .into())
            }
        };
        if is_dump {
            on_dump(&mut body)?;
        } else if entry.name == "manifest.json" {
            let mut text = String::new();
            body.by_ref()
                .take(MANIFEST_LIMIT)
                .read_to_string(&mut text)?;
            if record {
                inventory.lock().unwrap().manifest = Some(text);
            }
        }
        io::copy(&mut body, &mut io::sink())?;
        drop(body);
        if sizes_known {
            let left = entry.compressed.saturating_sub(r.offset - data_offset);
            io::copy(&mut (&mut r).take(left), &mut io::sink())?;
        }
        if entry.has_descriptor {
            skip_descriptor(&mut r)?;
        }
        if is_dump && stop_after_dump {
            return Ok(());
        }
    }
    if record {
        inventory.lock().unwrap().complete = true;
    }
    Ok(())
}

/// The largest central directory read to find its end record.
const DIRECTORY_LIMIT: u64 = 64 << 20;

/// Checks that the central directory that starts here (its signature `sig` already read) runs
/// to a whole end-of-central-directory record: a zip cut inside its directory is truncated.
fn check_directory_end<R: BufRead>(r: &mut Counted<R>, sig: u32) -> io::Result<()> {
    let mut rest = sig.to_le_bytes().to_vec();
    r.by_ref().take(DIRECTORY_LIMIT).read_to_end(&mut rest)?;
    let whole = memchr::memmem::rfind(&rest, b"PK\x05\x06").is_some_and(|at| rest.len() >= at + 22);
    if whole {
        Ok(())
    } else {
        Err(StreamFault::Truncated {
            offset: r.offset,
            produced: 0,
        }
        .into())
    }
}

fn skip_descriptor<R: BufRead>(r: &mut Counted<R>) -> io::Result<()> {
    let mut sig = [0u8; 4];
    read_exact_or_truncated(r, &mut sig)?;
    let mut rest = [0u8; 12];
    let len = if le32(&sig) == 0x0807_4b50 { 12 } else { 8 };
    read_exact_or_truncated(r, &mut rest[..len])
}

/// Opens `path` at `offset` for [`walk`].
pub(crate) fn reader_at(
    mut file: std::fs::File,
    offset: u64,
) -> io::Result<BufReader<std::fs::File>> {
    file.seek(SeekFrom::Start(offset))?;
    Ok(BufReader::with_capacity(1 << 18, file))
}
