//! Odoo version strings: `Series` and `OdooVersion` parsing, display round trip, ordering and
//! the upgrade path between two series.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odump_odoo::version::upgrade_path;
use odump_odoo::{OdooVersion, Series};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Two strings: before and after the first NUL.
    let (a, b) = text.split_once('\0').unwrap_or((&text, "17.0"));
    if let Ok(v) = a.parse::<OdooVersion>() {
        let shown = v.to_string();
        let back: OdooVersion = shown
            .parse()
            .unwrap_or_else(|e| panic!("{a:?} parsed as {shown:?}, which does not parse: {e}"));
        assert_eq!(back, v, "{a:?} → {shown:?}");
        std::hint::black_box((v.is_enterprise_build(), v.build_date()));
    }
    let sa = a.parse::<Series>();
    let sb = b.parse::<Series>();
    if let Ok(s) = &sa {
        let shown = s.to_string();
        assert_eq!(shown.parse::<Series>().as_ref(), Ok(s), "{a:?} → {shown:?}");
        std::hint::black_box((
            s.major(),
            s.is_major(),
            s.is_known(),
            s.is_supported_target(),
        ));
    }
    if let (Ok(x), Ok(y)) = (sa, sb) {
        match upgrade_path(x, y) {
            Ok(path) => {
                assert_eq!(path.last(), Some(&y));
                assert!(path.windows(2).all(|w| w[0] < w[1]));
                assert!(path.iter().all(|s| x < *s));
            }
            Err(e) => {
                std::hint::black_box(e.to_string());
            }
        }
    }
});
