use crate::check::{list, CheckInput};

rule! {
    IncompleteDump {
        code: "incomplete-dump",
        severity: Error,
        summary: "The dump does not end properly: pg_dump's trailer or some data is missing.",
        doc: "## What it checks

Whether the dump reads to a proper end: plain dumps end with `-- PostgreSQL database dump
complete`, archives have the data of every TOC entry, and no COPY block or statement is left
unterminated.

## Why it matters for the upgrade

A dump without its end was cut short (a full disk, an interrupted copy, a failed pg_dump): tables,
indexes or constraints are missing, and the upgraded database would be incomplete.

## How to fix

Make a new dump and check that pg_dump finished without error, then copy it whole.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    if input.failure.is_some() {
        return None; // truncated, corrupt-compression or unreadable says why
    }
    let summary = input
        .summary
        .filter(|s| !s.stopped_early && !s.complete())?;
    let mut what: Vec<String> = summary
        .problems
        .iter()
        .map(|p| match p.offset {
            Some(offset) => format!("{} (byte {offset})", p.message),
            None => p.message.clone(),
        })
        .collect();
    if !summary.trailer_seen && !summary.problems.iter().any(|p| p.code == "missing-trailer") {
        what.push(
            "pg_dump's end-of-dump trailer is missing: the file was cut short or pg_dump failed"
                .to_string(),
        );
    }
    let (first, rest) = what.split_first()?;
    let more = match rest {
        [] => String::new(),
        rest => format!(" (and {} more: {})", rest.len(), list(rest, 2)),
    };
    Some(format!(
        "the dump is incomplete: {first}{more}; dump the database again"
    ))
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, findings_of, summary};
    use crate::check::{run_checks, CheckInput, ReadFailure};

    fn codes(findings: &[crate::check::Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn fires_without_trailer_or_with_problems() {
        let mut s = summary();
        assert!(findings_of("incomplete-dump", &s, Some(&facts()), None).is_empty());
        s.trailer_seen = false;
        let found = findings_of("incomplete-dump", &s, Some(&facts()), None);
        assert!(
            found[0].message.contains("end-of-dump trailer is missing"),
            "{found:?}"
        );
        s.trailer_seen = true;
        s.problem("unterminated-copy", "COPY res_partner has no end", Some(99));
        let found = findings_of("incomplete-dump", &s, Some(&facts()), None);
        assert!(
            found[0]
                .message
                .contains("COPY res_partner has no end (byte 99)"),
            "{found:?}"
        );
    }

    #[test]
    fn a_failed_read_is_reported_by_its_own_rule() {
        let mut s = summary();
        s.trailer_seen = false;
        let failure = ReadFailure::Truncated { offset: 5 };
        let input = CheckInput {
            summary: Some(&s),
            failure: Some(&failure),
            ..CheckInput::default()
        };
        assert_eq!(codes(&run_checks(&input)), ["truncated"]);
    }

    #[test]
    fn an_early_stop_is_not_incomplete() {
        let mut s = summary();
        s.trailer_seen = false;
        s.stopped_early = true;
        assert!(findings_of("incomplete-dump", &s, Some(&facts()), None).is_empty());
    }
}
