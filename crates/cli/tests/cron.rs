//! `sdlab cron`: next fire times, one ISO-8601 UTC line each, strictly after `--from`;
//! exit 2 with one line for bad input.

use std::process::{Command, Output};

fn sdlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sdlab")).args(args).output().unwrap()
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn lists_fires_strictly_after_from() {
    // crontab(5): "30 4 1,15 * 5" runs at 4:30 on the 1st and 15th, plus every Friday.
    let out = sdlab(&["cron", "30 4 1,15 * 5", "--from", "2025-12-31T12:00:00Z", "--count", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        lines(&out),
        ["2026-01-01T04:30:00Z", "2026-01-02T04:30:00Z", "2026-01-09T04:30:00Z", "2026-01-15T04:30:00Z"]
    );
    // A fire exactly at --from is not listed; the next one is.
    let out = sdlab(&["cron", "0 13 * * *", "--from", "2026-12-02T13:00:00Z", "--count", "1"]);
    assert_eq!(lines(&out), ["2026-12-03T13:00:00Z"]);
    let out = sdlab(&["cron", "0 13 * * *", "--from", "2026-12-02T12:59:59Z", "--count", "1"]);
    assert_eq!(lines(&out), ["2026-12-02T13:00:00Z"]);
    // The leap day, and the default count of 10.
    let out = sdlab(&["cron", "0 0 29 2 *", "--from", "2025-03-01T00:00:00Z"]);
    let l = lines(&out);
    assert_eq!(l.len(), 10);
    assert_eq!(l[0], "2028-02-29T00:00:00Z");
    assert_eq!(l[9], "2064-02-29T00:00:00Z");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for (args, want) in [
        (&["cron", "61 * * * *", "--from", "2026-01-01T00:00:00Z"][..], "minute field: 61 is out of range 0-59"),
        (&["cron", "5/10 * * * *", "--from", "2026-01-01T00:00:00Z"], "5-59/10"),
        (&["cron", "* * * *", "--from", "2026-01-01T00:00:00Z"], "expected 5 fields"),
        (&["cron", "0 0 30 2 *", "--from", "2026-01-01T00:00:00Z"], "never fires"),
        (&["cron", "* * * * *", "--from", "2026-02-30T00:00:00Z"], "bad --from"),
        (&["cron", "* * * * *", "--from", "2026-01-01T00:00:00+02:00"], "not UTC"),
        (&["cron", "* * * * *", "--from", "2026-01-01T00:00:00Z", "--count", "0"], "--count"),
        (&["cron", "* * * * *", "--from", "2026-01-01T00:00:00Z", "--count", "10001"], "--count"),
        (&["cron", "* * * * *"], "--from"),
    ] {
        let out = sdlab(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("sdlab: ") && err.contains(want), "{args:?}: {err}");
    }
}
