//! The modules of `src/` are layers, and a layer imports only the layers
//! below it (the README's architecture section, `src/lib.rs`). An import
//! that goes up a layer, or between two modules of one layer, fails here.

use std::fs;
use std::path::Path;

/// Bottom first. A module may name (`crate::…`) only the modules before it.
const LAYERS: &[&str] = &[
    "config",
    "keyfile",
    "telemetry",
    "domain",
    "privacy",
    "db",
    "auth",
    "audit",
    "services",
    "jobs",
    "http",
    "server",
    "demo",
    "cli",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

/// The code of a file without its comments (doc comments name modules
/// above them freely; that is no import).
fn code_of(source: &str) -> String {
    source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| match line.find(" // ") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level modules a piece of code names: `crate::db::…`, and each
/// item of `crate::{db, auth::Principal}`.
fn modules_named(code: &str) -> Vec<String> {
    let mut named = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start && depth == 0 => {
                        named.push(identifier(&group[i..]).to_owned());
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            named.push(identifier(rest).to_owned());
        }
    }
    named
}

/// `(module named, why it is refused)` for each import of `code`, a file of
/// `module`, that does not go down.
fn violations(module: &str, code: &str) -> Vec<String> {
    let Some(own) = rank(module) else {
        return vec![format!(
            "`{module}` is in no layer: add it to LAYERS and src/lib.rs"
        )];
    };
    modules_named(&code_of(code))
        .into_iter()
        .filter(|named| named != module && !named.is_empty())
        .filter_map(|named| match rank(&named) {
            Some(r) if r < own => None,
            Some(_) => Some(format!("imports `{named}`, which is not below it")),
            None => Some(format!("imports `{named}`, which is in no layer")),
        })
        .collect()
}

fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `src/<path>:<line>: <code>` of each line of code in the files under
/// `src/<dir>` that `matches`, but for the files `skipped` names (by their
/// path below `src/`).
fn lines_that(
    dir: &str,
    skipped: impl Fn(&str) -> bool,
    matches: impl Fn(&str) -> bool,
) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src.join(dir), &mut files);
    let mut found = Vec::new();
    for file in &files {
        let path = file.strip_prefix(&src).unwrap().display().to_string();
        if skipped(&path) {
            continue;
        }
        let code = code_of(&fs::read_to_string(file).unwrap());
        for (n, line) in code.lines().enumerate() {
            if matches(line) {
                found.push(format!("src/{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn every_import_goes_down_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut refused = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = top.trim_end_matches(".rs");
        if module == "lib" || module == "main" {
            continue; // the crate root declares the layers; the binary is above them all
        }
        let code = fs::read_to_string(file).unwrap();
        for why in violations(module, &code) {
            refused.push(format!("src/{}: {why}", relative.display()));
        }
    }
    refused.sort();
    refused.dedup();
    assert!(
        refused.is_empty(),
        "imports that go up a layer:\n{}",
        refused.join("\n")
    );
}

#[test]
fn every_module_of_the_crate_root_has_a_layer() {
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| {
            l.strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))
        })
        .map(|l| l.trim_end_matches(';'))
        .collect();
    assert_eq!(declared, LAYERS, "src/lib.rs declares the layers in order");
}

#[test]
fn the_checker_refuses_an_upward_import() {
    // What a careless edit would add: the database layer reaching for the
    // HTTP error type, in each way Rust can spell it.
    assert_eq!(
        violations("db", "use crate::http::error::ApiError;").len(),
        1
    );
    assert_eq!(
        violations("db", "use crate::{domain::Role, http::state};").len(),
        1
    );
    assert_eq!(
        violations("domain", "#[ExistingTypePath = \"crate::db::schema::X\"]").len(),
        1
    );
    assert_eq!(violations("audit", "let s: crate::jobs::seal::X;").len(), 1);
    // Two modules of one layer may not lean on each other either way.
    assert_eq!(violations("auth", "use crate::audit::Entry;").len(), 1);
    // What is allowed: downward, itself, and comments.
    assert!(violations("http", "use crate::{db, auth::Principal, http::error};").is_empty());
    assert!(
        violations(
            "db",
            "/// see [`crate::http::error`]\nuse crate::domain::Role;"
        )
        .is_empty()
    );
}

/// Whether a line of code decides something on a role.
fn decides_on_a_role(line: &str) -> bool {
    let line = line.replace(' ', "");
    [
        ".role==",
        ".role!=",
        "role==Role::",
        "role!=Role::",
        "matchwho.role",
        "match(who.role",
        "matches!(who.role",
    ]
    .iter()
    .any(|pattern| line.contains(pattern))
}

/// Every decision on a caller's role is a function of the policy
/// (`src/domain/policy.rs`, re-exported as `auth::policy`): code elsewhere
/// that compares or matches a role fails here.
#[test]
fn no_role_decision_outside_the_policy() {
    // The policy itself, the closed set's own methods, and the commands
    // and demo data that create accounts.
    let skipped = |path: &str| {
        ["domain/policy.rs", "domain/enums.rs"].contains(&path)
            || path.starts_with("demo/")
            || path.starts_with("cli/")
    };
    let found = lines_that("", skipped, decides_on_a_role);
    assert!(
        found.is_empty(),
        "role decisions outside the policy:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_policy_checker_sees_a_role_decision() {
    assert!(decides_on_a_role("    if who.role == Role::Partner {"));
    assert!(decides_on_a_role("    let known = match who.role {"));
    assert!(decides_on_a_role(
        "(who.role != Role::Coordinator).then(|| 1)"
    ));
    // Building a value with a role is no decision.
    assert!(!decides_on_a_role("        role: Role::Partner,"));
    assert!(!decides_on_a_role(
        "    policy::allows(who.role, Action::WorkOnCases)"
    ));
}

/// Whether a line of code changes data itself: a transaction, the write
/// ceremony, or the record of a change.
fn writes(line: &str) -> bool {
    let line = line.replace(' ', "");
    [
        "Change::new(",
        "transaction(",
        "record::changed(",
        "record::changed_from(",
        "db::audit::insert(",
    ]
    .iter()
    .any(|pattern| line.contains(pattern))
}

/// HTTP parses and answers; every change goes through a use case of
/// `services/`, which owns its transaction, its events and its audit
/// record. A handler that writes by itself fails here. (The middleware
/// keeps its own bookkeeping: the Idempotency-Key table and the record of
/// a refused token or role, which no use case reaches.)
#[test]
fn no_http_module_changes_data_itself() {
    let skipped = |path: &str| path.starts_with("http/middleware/") || path == "http/caller.rs";
    let found = lines_that("http", skipped, writes);
    assert!(
        found.is_empty(),
        "HTTP modules that change data themselves (move it to a service):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_write_checker_sees_a_write() {
    assert!(writes(
        "    let plan = Change::new(by, AuditAction::Update, AuditTarget::Plan)"
    ));
    assert!(writes("    conn.transaction(async |conn| {"));
    assert!(writes(
        "    let done = transaction(&mut conn, async |conn| {"
    ));
    assert!(writes(
        "        record::changed(conn, audit, who, action, target, id).await?;"
    ));
    assert!(!writes(
        "    let plan = services::plans::update(&mut conn, by, id, v, &c).await?;"
    ));
}

/// Query strings and bodies are read by `http::extract`, whose failures
/// name the parameter or field; actix's own `web::Query` and `web::Form`
/// say only "query" or "body".
#[test]
fn handlers_read_input_through_extractors_that_name_the_field() {
    let found = lines_that(
        "http",
        |path| path == "http/extract.rs",
        |line| line.contains("web::Query<") || line.contains("web::Form<"),
    );
    assert!(
        found.is_empty(),
        "use http::extract::Query:\n{}",
        found.join("\n")
    );
}

/// The transactions: `services::change` opens every one and is the only
/// maker of a `db::Tx`. A transaction opened anywhere else fails here.
#[test]
fn transactions_are_opened_in_one_place() {
    let skipped = |path: &str| ["services/change.rs", "db/tx.rs"].contains(&path);
    let found = lines_that("", skipped, opens_a_transaction);
    assert!(
        found.is_empty(),
        "transactions opened outside services::change (use change::transaction or Change::run):\n{}",
        found.join("\n")
    );
}

fn opens_a_transaction(line: &str) -> bool {
    [
        ".transaction(",
        "build_transaction(",
        "begin_transaction",
        "Tx::begun(",
        "\"BEGIN",
        "START TRANSACTION",
    ]
    .iter()
    .any(|pattern| line.contains(pattern))
}

/// The files of `db/` whose writes are no use case's, and why.
const BOOKKEEPING: &[(&str, &str)] = &[
    (
        "audit.rs",
        "the audit trail: reads and refusals are recorded too",
    ),
    ("audited.rs", "an audited read records itself"),
    ("idempotency.rs", "the middleware's Idempotency-Key leases"),
    (
        "login_throttle.rs",
        "a refused login's failure must outlive its rollback",
    ),
    ("migrations.rs", "the schema"),
    ("pool.rs", "the connections"),
];

/// Whether a function body changes rows.
fn changes_rows(body: &str) -> bool {
    [
        "insert_into(",
        "diesel::update(",
        "diesel::delete(",
        "INSERT INTO",
        "DELETE FROM",
        "purge_statements(",
    ]
    .iter()
    .any(|pattern| body.contains(pattern))
        || body
            .split("UPDATE ")
            .skip(1)
            .any(|rest| rest.split_whitespace().nth(1) == Some("SET"))
}

/// `(name, signature, body)` of each function of `code`.
fn functions(code: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("fn ") {
        let from = &rest[at + 3..];
        let name = identifier(from).to_owned();
        let opened = {
            let mut depth = 0i32;
            let mut opened = None;
            for (i, c) in from.char_indices() {
                match c {
                    '(' | '<' | '[' => depth += 1,
                    ')' | ']' => depth -= 1,
                    '>' if !from[..i].ends_with('-') => depth -= 1,
                    ';' if depth == 0 => break,
                    '{' if depth == 0 => {
                        opened = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            opened
        };
        let Some(opened) = opened else {
            rest = from;
            continue;
        };
        let mut depth = 0;
        let mut end = from.len();
        for (i, c) in from[opened..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = opened + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        found.push((
            name,
            from[..opened].to_owned(),
            from[opened..end].to_owned(),
        ));
        rest = &from[end..];
    }
    found
}

/// `(function, why)` for each function of a `db/` file that changes rows
/// without taking the transaction of a use case.
fn writes_outside_a_use_case(code: &str) -> Vec<String> {
    functions(&code_of(code))
        .into_iter()
        .filter(|(_, signature, body)| changes_rows(body) && !signature.contains("Tx<'_>"))
        .map(|(name, _, _)| name)
        .collect()
}

/// A change of case data compiles only inside a use case: every query of
/// `db/` that changes rows takes a `db::Tx`, which only
/// `services::change` makes. A new writing query that takes a plain
/// connection fails here.
#[test]
fn every_writing_query_takes_a_transaction() {
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db");
    let mut files = Vec::new();
    sources(&db, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&db).unwrap().display().to_string();
        if BOOKKEEPING.iter().any(|(name, _)| *name == relative) {
            continue;
        }
        for name in writes_outside_a_use_case(&fs::read_to_string(file).unwrap()) {
            found.push(format!("src/db/{relative}: {name}"));
        }
    }
    assert!(
        found.is_empty(),
        "queries that change rows without a use case's transaction (take `tx: &mut Tx<'_>`):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_transaction_checker_sees_a_write_without_one() {
    let careless = "pub async fn close(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {\n    diesel::update(pathways::table.find(id)).set(x).execute(conn).await\n}";
    assert_eq!(writes_outside_a_use_case(careless), vec!["close"]);
    let raw = "async fn purge(conn: &mut AsyncPgConnection) -> QueryResult<usize> {\n    sql_query(\"UPDATE persons SET x = 1\").execute(conn).await\n}";
    assert_eq!(writes_outside_a_use_case(raw), vec!["purge"]);
    let proper = "pub async fn close(tx: &mut Tx<'_>, id: Uuid) -> QueryResult<usize> {\n    diesel::update(pathways::table.find(id)).set(x).execute(tx.conn()).await\n}";
    assert!(writes_outside_a_use_case(proper).is_empty());
    let read = "pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<X> {\n    x::table.find(id).first(conn).await\n}";
    assert!(writes_outside_a_use_case(read).is_empty());
    assert!(opens_a_transaction("    conn.transaction(async |conn| {"));
    assert!(opens_a_transaction("    let tx = Tx::begun(conn);"));
    assert!(!opens_a_transaction("    transaction(conn, async |tx| {"));
}

/// A use case records its events, beside its rules: `db/` holds queries,
/// and the timeline is written by `db/events.rs` alone, called from
/// `services/`. An event recorded from `db/` fails here.
#[test]
fn events_are_recorded_by_use_cases() {
    let found = lines_that("db", |path| path == "db/events.rs", records_an_event);
    assert!(
        found.is_empty(),
        "events recorded from db/ (record them in the use case, services/):\n{}",
        found.join("\n")
    );
}

fn records_an_event(line: &str) -> bool {
    ["events::record", "pathway_events::table"]
        .iter()
        .any(|pattern| line.contains(pattern))
}

#[test]
fn the_event_checker_sees_an_event() {
    assert!(records_an_event(
        "    events::record(tx, id, actor, data).await?;"
    ));
    assert!(records_an_event(
        "    diesel::insert_into(pathway_events::table)"
    ));
    assert!(!records_an_event(
        "    let rows = feed::page(conn, who).await?;"
    ));
}

/// The modules of one folder that `code` names: `crate::db::x`, each item
/// of `crate::db::{x, y::Z}`, and `super::x` from a file of the folder.
fn siblings_named(folder: &str, code: &str, in_folder: bool) -> Vec<String> {
    let mut named = Vec::new();
    let prefix = format!("crate::{}::", folder.replace('/', "::"));
    let mut prefixes = vec![prefix];
    if in_folder {
        prefixes.push("super::".to_owned());
    }
    for prefix in &prefixes {
        let mut rest = code;
        while let Some(at) = rest.find(prefix.as_str()) {
            if prefix == "super::" && rest[..at].ends_with("::") {
                rest = &rest[at + prefix.len()..];
                continue;
            }
            rest = &rest[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                named.extend(modules_named(&format!("crate::{{{group}")));
            } else {
                named.push(identifier(rest).to_owned());
            }
        }
    }
    named
}

/// The circles among the modules of each folder of `src/`: `(folder,
/// modules of the circle)`.
fn circles_in(src: &Path) -> Vec<(String, Vec<String>)> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut files = Vec::new();
    sources(src, &mut files);
    // folder → module → the modules of the same folder it names
    let mut graphs: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(src).unwrap();
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        let code = code_of(&fs::read_to_string(file).unwrap());
        // Each folder above the file: the file belongs to the module of
        // that folder its path goes through.
        for depth in 1..parts.len() {
            let folder = parts[..depth].join("/");
            let module = parts[depth].clone();
            if module == "mod" {
                continue; // the folder's root declares its modules
            }
            let in_folder = depth == parts.len() - 1;
            let graph = graphs.entry(folder.clone()).or_default();
            let edges = graph.entry(module.clone()).or_default();
            for named in siblings_named(&folder, &code, in_folder) {
                if named != module && !named.is_empty() {
                    edges.insert(named);
                }
            }
        }
    }
    let mut circles = Vec::new();
    for (folder, graph) in &graphs {
        // A module is on a circle when it reaches itself.
        let mut seen: BTreeSet<BTreeSet<String>> = BTreeSet::new();
        for start in graph.keys() {
            let mut stack = vec![start.clone()];
            let mut reached = BTreeSet::new();
            while let Some(at) = stack.pop() {
                for next in graph.get(&at).into_iter().flatten() {
                    if reached.insert(next.clone()) {
                        stack.push(next.clone());
                    }
                }
            }
            if reached.contains(start) {
                let members: BTreeSet<String> = reached
                    .iter()
                    .filter(|m| {
                        let mut stack = vec![(*m).clone()];
                        let mut back = BTreeSet::new();
                        while let Some(at) = stack.pop() {
                            for next in graph.get(&at).into_iter().flatten() {
                                if back.insert(next.clone()) {
                                    stack.push(next.clone());
                                }
                            }
                        }
                        back.contains(start)
                    })
                    .cloned()
                    .collect();
                if seen.insert(members.clone()) {
                    circles.push((folder.clone(), members.into_iter().collect()));
                }
            }
        }
    }
    circles
}

/// Within a folder too, modules lean one way: two that name each other,
/// or a longer circle, fail here.
#[test]
fn no_circle_inside_a_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let circles: Vec<String> = circles_in(&src)
        .into_iter()
        .map(|(folder, members)| format!("src/{folder}: {}", members.join(" → ")))
        .collect();
    assert!(
        circles.is_empty(),
        "modules of one folder that import each other:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_circle_checker_sees_a_circle() {
    let dir = std::env::temp_dir().join(format!("parcours-circles-{}", std::process::id()));
    let db = dir.join("db");
    fs::create_dir_all(&db).unwrap();
    fs::write(db.join("mod.rs"), "pub mod a;\npub mod b;\npub mod c;\n").unwrap();
    fs::write(db.join("a.rs"), "use crate::db::b::B;\n").unwrap();
    fs::write(db.join("b.rs"), "use super::{c, x};\n").unwrap();
    fs::write(db.join("c.rs"), "fn f() { crate::db::a::g() }\n").unwrap();
    let circles = circles_in(&dir);
    fs::write(db.join("c.rs"), "// crate::db::a::g\n").unwrap();
    let none = circles_in(&dir);
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        circles,
        vec![("db".to_owned(), vec!["a".into(), "b".into(), "c".into()])]
    );
    assert!(none.is_empty());
}
