//! `cargo xtask corpus [DIR]...`: decodes every JSON file of recorded Slack payloads and checks
//! that the model types it and gives it back.
//!
//! Each file is one JSON value: an RTM event (it has a top-level `type`, or `reply_to` for a
//! reply) or an `rtm.connect` / `rtm.start` answer (it has `ok` and no `type`). A directory's
//! subdirectories are read too. Events go through `slack_rtm_codec::decode_event`, then are
//! re-encoded and compared with the file: every field must come back with the same value (a
//! `null` may be dropped), and none may be added. A `message` whose subtype the model does not
//! know counts as an unknown type. Answers go through the codec's `rtm.connect` response parser;
//! an `{"ok":false}` answer counts as typed when its error is a documented code, and an answer
//! whose socket URL the client would refuse (recorded fixtures point at `ws://localhost`) as
//! typed, with a note.
//!
//! One line per file, then totals; the exit status is non-zero on any shape error or loss.

use serde_json::Value;
use slack_rtm_codec::ApiFailure;
use slack_rtm_codec::types::event::{MessageSubtype, MessageView};
use slack_rtm_codec::types::{ApiError, SelfInfo, TeamInfo};
use slack_rtm_codec::{ConnectConfig, Event, EventFrame, decode_event, decode_message_view};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask corpus [DIR...]  (JSON files of RTM events or rtm.connect answers; \
                     default: ../shared/slack-corpus beside the workspace)";

/// The corpus checked when no directory is given: `shared/slack-corpus` beside the workspace.
fn default_dir() -> std::path::PathBuf {
    crate::official::workspace_root().join("../shared/slack-corpus")
}

/// What became of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Decoded into its typed variant (or a typed answer) and given back whole.
    Typed,
    /// A `type` the model does not know: kept verbatim in `Event::Unknown`.
    UnknownType,
    /// A known type (or an answer) the model could not decode.
    ShapeError,
    /// Decoded, but re-encoding lost or changed fields.
    Loss,
    /// Not JSON, or JSON that is neither an event nor an answer.
    Unreadable,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Typed => "typed",
            Outcome::UnknownType => "unknown-type",
            Outcome::ShapeError => "SHAPE-ERROR",
            Outcome::Loss => "LOSS",
            Outcome::Unreadable => "UNREADABLE",
        }
    }
}

/// Totals over every file checked.
#[derive(Default)]
struct Totals {
    files: usize,
    typed: usize,
    unknown_type: usize,
    shape_error: usize,
    loss: usize,
    unreadable: usize,
    unknown_types: std::collections::BTreeMap<String, usize>,
}

pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a.starts_with('-')) {
        return Err(USAGE.to_owned());
    }
    let dirs: Vec<PathBuf> =
        if args.is_empty() { vec![default_dir()] } else { args.iter().map(PathBuf::from).collect() };
    let mut files = Vec::new();
    for dir in &dirs {
        if !dir.is_dir() {
            return Err(format!("corpus directory {} does not exist or is not a directory", dir.display()));
        }
        collect(dir, &mut files)?;
    }
    if files.is_empty() {
        let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return Err(format!("no .json files under {}", names.join(", ")));
    }
    files.sort();
    let mut totals = Totals::default();
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let (outcome, kind, detail) = check_file(&text);
        totals.files += 1;
        match outcome {
            Outcome::Typed => totals.typed += 1,
            Outcome::UnknownType => {
                totals.unknown_type += 1;
                *totals.unknown_types.entry(kind.clone()).or_default() += 1;
            }
            Outcome::ShapeError => totals.shape_error += 1,
            Outcome::Loss => totals.loss += 1,
            Outcome::Unreadable => totals.unreadable += 1,
        }
        let mut line = format!("{:<13} {:<34} {}", outcome.label(), kind, path.display());
        if !detail.is_empty() {
            let _ = write!(line, "\n    {}", detail.replace('\n', "\n    "));
        }
        println!("{line}");
    }
    println!(
        "\n{} files: {} typed, {} unknown type, {} shape errors, {} round-trip losses, {} unreadable",
        totals.files, totals.typed, totals.unknown_type, totals.shape_error, totals.loss, totals.unreadable
    );
    if !totals.unknown_types.is_empty() {
        let list: Vec<String> = totals.unknown_types.iter().map(|(k, n)| format!("{k} ({n})")).collect();
        println!("unknown types: {}", list.join(", "));
    }
    if totals.shape_error + totals.loss + totals.unreadable > 0 {
        return Err(format!(
            "{} shape errors, {} round-trip losses, {} unreadable files",
            totals.shape_error, totals.loss, totals.unreadable
        ));
    }
    Ok(())
}

/// Every `.json` file under `dir`, recursively.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().and_then(|e| e.to_str()) == Some("json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Checks one file: its outcome, its kind (event type or `rtm.connect`) and what went wrong.
fn check_file(text: &str) -> (Outcome, String, String) {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return (Outcome::Unreadable, "-".into(), format!("not JSON: {e}")),
    };
    let Some(object) = value.as_object() else {
        return (Outcome::Unreadable, "-".into(), "not a JSON object".into());
    };
    if object.contains_key("type") || object.contains_key("reply_to") {
        check_event(text, &value)
    } else if object.contains_key("ok") {
        check_answer(text)
    } else {
        (Outcome::Unreadable, "-".into(), "neither an event (`type`) nor an answer (`ok`)".into())
    }
}

fn check_event(text: &str, original: &Value) -> (Outcome, String, String) {
    // Frames arrive compact on the wire; the files are indented.
    let compact = original.to_string();
    let event = match decode_event(&compact).or_else(|_| decode_event(text)) {
        Ok(ev) => ev,
        Err(e) => return (Outcome::Unreadable, "-".into(), e.to_string()),
    };
    let mut kind = event.event_type().to_owned();
    if let Event::Unknown { shape_error, .. } = &event {
        return match shape_error {
            Some(err) => (Outcome::ShapeError, kind, err.clone()),
            None => (Outcome::UnknownType, kind, String::new()),
        };
    }
    // A message subtype the model does not know counts as an unknown type (it is still
    // checked for losses below).
    let mut unknown_subtype = false;
    if let Event::Message(m) = &event
        && let Some(sub) = &m.subtype
    {
        kind = format!("message/{}", sub.as_str());
        unknown_subtype = matches!(sub, MessageSubtype::Other(_));
    }
    let back = match serde_json::to_value(&event) {
        Ok(v) => v,
        Err(e) => return (Outcome::Loss, kind, format!("re-encoding failed: {e}")),
    };
    let mut problems = Vec::new();
    diff("", original, Some(&back), &mut problems);
    diff_extra("", &back, original, &mut problems);
    view_problems(&compact, &event, &mut problems);
    if problems.is_empty() {
        let outcome = if unknown_subtype { Outcome::UnknownType } else { Outcome::Typed };
        (outcome, kind, String::new())
    } else {
        (Outcome::Loss, kind, problems.join("\n"))
    }
}

/// A message's borrowed view (what `Events::next_lazy` reads) must hold what its decode holds.
fn view_problems(compact: &str, event: &Event, problems: &mut Vec<String>) {
    let Event::Message(m) = event else { return };
    let Ok(frame) = EventFrame::new(compact.to_owned()) else { return };
    let view = decode_message_view(&frame);
    if view != Ok(Some(MessageView::of(m))) {
        problems.push(format!("the borrowed view differs from the decode: {view:?}"));
    }
}

fn check_answer(text: &str) -> (Outcome, String, String) {
    let response = http::Response::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .body(text.as_bytes().to_vec());
    let response = match response {
        Ok(r) => r,
        Err(e) => return (Outcome::Unreadable, "rtm.connect".into(), e.to_string()),
    };
    let config = ConnectConfig::default();
    let full = config.parse_response(&response, Instant::now());
    let parsed = full.as_ref().map_err(|e| &e.failure);
    if matches!(parsed, Ok(_) | Err(ApiFailure::InvalidSocketUrl { .. })) {
        let losses = answer_losses(text);
        if !losses.is_empty() {
            return (Outcome::Loss, "rtm.connect".into(), losses.join("\n"));
        }
    }
    match parsed {
        Ok(_) => (Outcome::Typed, "rtm.connect".into(), String::new()),
        Err(ApiFailure::Api { error: ApiError::Other(code), .. }) => {
            (Outcome::UnknownType, "rtm.connect error".into(), format!("undocumented error code `{code}`"))
        }
        Err(ApiFailure::Api { error, .. }) => {
            (Outcome::Typed, format!("rtm.connect error {}", error.as_str()), String::new())
        }
        // Recorded test fixtures point at local test servers (`ws://localhost`) or had their URL
        // blanked: the answer decoded, and the client would rightly refuse to open that URL.
        Err(ApiFailure::InvalidSocketUrl { reason }) => (
            Outcome::Typed,
            "rtm.connect".into(),
            format!("decoded; its socket URL would be refused: {reason}"),
        ),
        Err(_) => {
            (Outcome::ShapeError, "rtm.connect".into(), full.err().map(|e| e.to_string()).unwrap_or_default())
        }
    }
}

/// What the answer's `self` and `team` lose when decoded and written back (the typed answer
/// keeps every field of both; its other top-level fields, `ok` and `rtm.start`'s lists, are
/// not part of it).
fn answer_losses(text: &str) -> Vec<String> {
    let Ok(original) = serde_json::from_str::<Value>(text) else { return vec!["not JSON".into()] };
    let mut problems = Vec::new();
    for key in ["self", "team"] {
        let Some(part) = original.get(key) else { continue };
        let back = match key {
            "self" => serde_json::from_value::<SelfInfo>(part.clone()).and_then(serde_json::to_value),
            _ => serde_json::from_value::<TeamInfo>(part.clone()).and_then(serde_json::to_value),
        };
        match back {
            Ok(back) => {
                diff(key, part, Some(&back), &mut problems);
                diff_extra(key, &back, part, &mut problems);
            }
            Err(e) => problems.push(format!("{key}: re-decoding failed: {e}")),
        }
    }
    problems
}

/// Every field of `original` must be in `back` with the same value; a `null` may be missing.
fn diff(path: &str, original: &Value, back: Option<&Value>, problems: &mut Vec<String>) {
    let Some(back) = back else {
        if !original.is_null() {
            problems.push(format!("{}: lost", display(path)));
        }
        return;
    };
    match (original, back) {
        (Value::Object(o), Value::Object(b)) => {
            for (key, value) in o {
                diff(&join(path, key), value, b.get(key), problems);
            }
        }
        (Value::Array(o), Value::Array(b)) if o.len() == b.len() => {
            for (i, (ov, bv)) in o.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), ov, Some(bv), problems);
            }
        }
        (o, b) if o == b => {}
        (o, b) => problems.push(format!("{}: was {}, came back as {}", display(path), short(o), short(b))),
    }
}

/// Fields that re-encoding added (other than `null`s): the model invented something.
fn diff_extra(path: &str, back: &Value, original: &Value, problems: &mut Vec<String>) {
    if let (Value::Object(b), Value::Object(o)) = (back, original) {
        for (key, value) in b {
            match o.get(key) {
                None if !value.is_null() => problems.push(format!("{}: added", display(&join(path, key)))),
                Some(ov) => diff_extra(&join(path, key), value, ov, problems),
                None => {}
            }
        }
    } else if let (Value::Array(b), Value::Array(o)) = (back, original) {
        for (i, (bv, ov)) in b.iter().zip(o).enumerate() {
            diff_extra(&format!("{path}[{i}]"), bv, ov, problems);
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn display(path: &str) -> &str {
    if path.is_empty() { "(top level)" } else { path }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 { format!("{}…", s.chars().take(80).collect::<String>()) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_whose_view_differs_from_its_decode_is_a_problem() {
        let text = r#"{"type":"message","text":"a \"b\"","channel":"C1","ts":"1.2"}"#;
        let mut problems = Vec::new();
        view_problems(text, &decode_event(text).unwrap(), &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        view_problems(r#"{"type":"message","text":"other"}"#, &decode_event(text).unwrap(), &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn classifies_events_and_answers() {
        let (o, k, _) = check_file(r#"{"type":"user_typing","channel":"C1","user":"U1"}"#);
        assert_eq!((o, k.as_str()), (Outcome::Typed, "user_typing"));
        let (o, k, _) = check_file(r#"{"type":"no_such_event_type","x":1}"#);
        assert_eq!((o, k.as_str()), (Outcome::UnknownType, "no_such_event_type"));
        let (o, k, _) = check_file(r#"{"type":"message","subtype":"no_such_subtype","ts":"1.2"}"#);
        assert_eq!((o, k.as_str()), (Outcome::UnknownType, "message/no_such_subtype"));
        let (o, k, _) = check_file(r#"{"type":"message","subtype":"bot_message","ts":"1.2","new":[1]}"#);
        assert_eq!((o, k.as_str()), (Outcome::Typed, "message/bot_message"));
        // A known type whose required field has the wrong shape.
        let (o, _, d) = check_file(r#"{"type":"user_typing","channel":5,"user":"U1"}"#);
        assert_eq!(o, Outcome::ShapeError, "{d}");
        let (o, ..) = check_file(r#"{"ok":true,"reply_to":1,"ts":"1.2","text":"hi"}"#);
        assert_eq!(o, Outcome::Typed);
        let (o, ..) = check_file(
            r#"{"ok":true,"self":{"id":"U1","name":"b"},"team":{"id":"T1","name":"T","domain":"t"},"url":"wss://x.invalid/ws"}"#,
        );
        assert_eq!(o, Outcome::Typed);
        // `self` and `team` come back whole, fields the model does not type included.
        let (o, _, d) = check_file(
            r#"{"ok":true,"self":{"id":"U1","name":"b","prefs":{"a":[1]}},"team":{"id":"T1","name":"T","domain":"t","icon":{"image_34":"x"},"plan":""},"url":"wss://x.invalid/ws"}"#,
        );
        assert_eq!(o, Outcome::Typed, "{d}");
        let (o, k, _) = check_file(r#"{"ok":false,"error":"invalid_auth"}"#);
        assert_eq!((o, k.as_str()), (Outcome::Typed, "rtm.connect error invalid_auth"));
        let (o, _, d) = check_file(
            r#"{"ok":true,"self":{"id":"U1","name":"b"},"team":{"id":"T1","name":"T","domain":"t"},"url":"ws://localhost:1"}"#,
        );
        assert_eq!(o, Outcome::Typed);
        assert!(d.contains("would be refused"), "{d}");
        let (o, ..) = check_file(r#"{"ok":true,"team":{"id":"T1"}}"#);
        assert_eq!(o, Outcome::ShapeError);
        assert_eq!(check_file("[1]").0, Outcome::Unreadable);
        assert_eq!(check_file("{nope").0, Outcome::Unreadable);
        assert_eq!(check_file(r#"{"a":1}"#).0, Outcome::Unreadable);
    }

    #[test]
    fn diff_reports_lost_changed_and_added_fields_but_not_nulls() {
        let original: Value = serde_json::from_str(r#"{"a":1,"b":{"c":"x","n":null},"d":[1,2]}"#).unwrap();
        let mut problems = Vec::new();
        diff("", &original, Some(&original), &mut problems);
        assert!(problems.is_empty());
        let back: Value = serde_json::from_str(r#"{"a":"1","b":{},"d":[1,2],"e":true,"f":null}"#).unwrap();
        diff("", &original, Some(&back), &mut problems);
        diff_extra("", &back, &original, &mut problems);
        assert_eq!(problems, ["a: was 1, came back as \"1\"", "b.c: lost", "e: added"]);
    }

    #[test]
    fn a_missing_directory_is_a_clear_error() {
        let err = run(&["/nonexistent/slack-corpus".to_owned()]).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        assert!(run(&["--bogus".to_owned()]).unwrap_err().contains("usage"));
        let empty = std::env::temp_dir().join(format!("xtask-corpus-empty-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let err = run(&[empty.display().to_string()]).unwrap_err();
        std::fs::remove_dir_all(&empty).unwrap();
        assert!(err.contains("no .json files"), "{err}");
    }
}
