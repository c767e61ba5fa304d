//! The custom/directory archive reader directly: header, TOC, data blocks (zlib or stored),
//! read forward from a stream, by offsets from a seekable file, entry by entry, or as a
//! directory dump whose data files come from the input too.
//!
//! Layout of the input: byte 0 picks the mode (stream, file, directory); for directories bytes
//! 1..5 (little endian) are the length of `toc.dat`, the rest is the content given to every data
//! file the TOC names (plain or, when it starts with the gzip magic, as `.dat.gz`).
#![no_main]

use std::fs;
use std::io::{Cursor, Read};
use std::ops::ControlFlow;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use odump_pgdump::archive::{ArchiveReader, DataLocation};

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("odump-fuzz-archive-{}", std::process::id()))
}

fn visit(mut reader: ArchiveReader, by_entry: bool) {
    std::hint::black_box(format!("{:?}", reader.header()));
    let ids: Vec<i32> = reader.entries().iter().map(|e| e.dump_id).collect();
    for e in reader.entries() {
        std::hint::black_box(e.describe());
    }
    let mut on_data = |_: &odump_pgdump::archive::ArchiveTocEntry, r: &mut dyn Read| {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    std::hint::black_box(e.to_string());
                    break;
                }
            }
        }
        Ok(ControlFlow::Continue(()))
    };
    if by_entry {
        for id in ids.iter().take(8) {
            if let Err(e) = reader.read_entry_data(*id, &mut on_data) {
                std::hint::black_box(e.to_string());
            }
        }
    }
    let mut n = 0;
    let mut want = |_: &odump_pgdump::archive::ArchiveTocEntry| {
        n += 1;
        n % 3 != 0
    };
    match reader.for_each_data(&mut want, &mut on_data) {
        Ok(visit) => {
            std::hint::black_box(format!("{visit:?}"));
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let archive = odump_io::Archive::Stream(Box::new(Cursor::new(rest.to_vec())));
            if let Ok(reader) = ArchiveReader::open("fuzz", archive) {
                visit(reader, false);
            }
        }
        1 => {
            let path = scratch();
            fs::write(&path, rest).unwrap();
            let file = fs::File::open(&path).unwrap();
            if let Ok(reader) = ArchiveReader::open("fuzz", odump_io::Archive::File(file)) {
                visit(reader, true);
            }
            let _ = fs::remove_file(&path);
        }
        _ => {
            if rest.len() < 4 {
                return;
            }
            let declared = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let toc_len = (declared as usize).min(rest.len() - 4);
            let (toc, content) = rest[4..].split_at(toc_len);
            let dir = scratch();
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("toc.dat"), toc).unwrap();
            let archive = odump_io::Archive::Directory(dir.clone());
            if let Ok(reader) = ArchiveReader::open("fuzz", archive) {
                let gz = content.starts_with(&[0x1f, 0x8b]);
                for e in reader.entries().iter().take(16) {
                    if let DataLocation::File(name) = &e.data {
                        if !name.is_empty()
                            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
                        {
                            let name = if gz {
                                format!("{name}.gz")
                            } else {
                                name.clone()
                            };
                            let _ = fs::write(dir.join(name), content);
                        }
                    }
                }
                visit(reader, true);
            }
            let _ = fs::remove_dir_all(&dir);
        }
    }
});
