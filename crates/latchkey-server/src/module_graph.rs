//! The server's module graph has no cycle (an ARCHITECTURE.md invariant): the layers in
//! `lib.rs` only hold if no module reaches, through `crate::`, `super::` or `self::` paths,
//! back to itself.
//!
//! At test time every `.rs` file under `src/` is read and given its module path
//! (`runtime/token.rs` → `runtime::token`, `x/mod.rs` → `x`, `lib.rs` / `main.rs` → the crate
//! root). Comments, string and character literals and `#[cfg(test)] mod … { … }` blocks are
//! removed; every path starting with `crate::`, `super::` or `self::` (grouped imports
//! included) is resolved to the longest prefix that is a module of the crate; that gives one
//! edge per (module, module) pair. Edges to the crate root and to the module itself are
//! ignored. The test fails, printing the cycle and the paths that make it, if the graph has
//! one. The scanner is small and std-only; it refuses inline (non-test) modules, whose
//! `super::` it would resolve wrongly.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path as segments; the crate root is empty.
type ModPath = Vec<String>;

/// module → module it uses → the first path that made the edge, and the file it is in.
type Graph = BTreeMap<ModPath, BTreeMap<ModPath, String>>;

fn show(m: &[String]) -> String {
    if m.is_empty() { "crate".to_owned() } else { m.join("::") }
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `runtime/token.rs` → `runtime::token`; `http/mod.rs` → `http`; `lib.rs`, `main.rs` → root.
fn module_of(rel: &Path) -> ModPath {
    let mut segs: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segs.len() == 1 && (segs[0] == "lib" || segs[0] == "main") {
        return Vec::new();
    }
    if segs.last().is_some_and(|s| s == "mod") {
        segs.pop();
    }
    segs
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The source without comments, and with the contents of string and character literals
/// removed (so `"https://…"` and `"crate::x"` in a message are neither comments nor paths).
fn strip_comments_and_literals(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let prev_ident = i > 0 && is_ident_char(c[i - 1]);
        match c[i] {
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push(' ');
            }
            // Raw strings: r"…", r#"…"#, br"…" (the `b` was already copied as an identifier char).
            'r' if (!prev_ident || (c[i - 1] == 'b' && (i < 2 || !is_ident_char(c[i - 2]))))
                && matches!(c.get(i + 1), Some('"') | Some('#')) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while c.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if c.get(j) != Some(&'"') {
                    // `r#ident`, a raw identifier: not a string.
                    out.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    match c.get(j) {
                        None => break,
                        Some('"') if (1..=hashes).all(|k| c.get(j + k) == Some(&'#')) => {
                            j += 1 + hashes;
                            break;
                        }
                        _ => j += 1,
                    }
                }
                out.push_str("\"\"");
                i = j;
            }
            '"' => {
                i += 1;
                while i < c.len() && c[i] != '"' {
                    i += if c[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            '\'' => {
                // A character literal ('x', '\n', '\u{1F600}', '"') or a lifetime ('a).
                if c.get(i + 1) == Some(&'\\') {
                    // Past the backslash and the escaped character, to the closing quote.
                    let mut j = i + 3;
                    while j < c.len() && c[j] != '\'' {
                        j += 1;
                    }
                    i = j + 1;
                    out.push_str("' '");
                } else if c.get(i + 2) == Some(&'\'') {
                    i += 3;
                    out.push_str("' '");
                } else {
                    out.push('\'');
                    i += 1;
                }
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

/// Skips whitespace from `i`.
fn skip_ws(c: &[char], mut i: usize) -> usize {
    while i < c.len() && c[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Reads an identifier at `i` (after whitespace): the identifier and the index after it.
fn ident_at(c: &[char], i: usize) -> (String, usize) {
    let start = skip_ws(c, i);
    let mut j = start;
    while j < c.len() && is_ident_char(c[j]) {
        j += 1;
    }
    (c[start..j].iter().collect(), j)
}

/// Removes `#[cfg(test)] mod name { … }` blocks (other attributes and a visibility may come
/// between). Expects comments and literals to be gone already, so braces balance. Panics on
/// an inline module that is not test-only: `super::` inside it would mean something else.
fn strip_test_modules(code: &str, file: &str) -> String {
    let c: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    // Whether the item being read is under `#[cfg(test)]`.
    let mut cfg_test = false;
    while i < c.len() {
        if c[i] == '#' && c.get(i + 1) == Some(&'[') {
            let mut j = i + 2;
            let mut depth = 1;
            while j < c.len() && depth > 0 {
                match c[j] {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            let attr: String = c[i..j].iter().filter(|ch| !ch.is_whitespace()).collect();
            cfg_test |= attr == "#[cfg(test)]";
            out.extend(&c[i..j]);
            i = j;
            continue;
        }
        if c[i].is_whitespace() {
            out.push(c[i]);
            i += 1;
            continue;
        }
        if is_ident_char(c[i]) && (i == 0 || !is_ident_char(c[i - 1])) {
            let (mut word, mut j) = ident_at(&c, i);
            if word == "pub" {
                let k = skip_ws(&c, j);
                if c.get(k) == Some(&'(') {
                    j = k + c[k..].iter().position(|&ch| ch == ')').map_or(0, |p| p + 1);
                }
                (word, j) = ident_at(&c, j);
            }
            if word == "mod" {
                let (name, k) = ident_at(&c, j);
                let k = skip_ws(&c, k);
                if c.get(k) == Some(&'{') {
                    assert!(
                        cfg_test,
                        "{file}: inline module `{name}` is not #[cfg(test)]; the module_graph scanner does not resolve paths inside it"
                    );
                    let mut depth = 0;
                    let mut m = k;
                    while m < c.len() {
                        match c[m] {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        m += 1;
                    }
                    i = m + 1;
                    cfg_test = false;
                    continue;
                }
            }
        }
        cfg_test = false;
        out.push(c[i]);
        i += 1;
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Star,
    Other,
}

fn tokens(code: &str) -> Vec<Tok> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if is_ident_char(ch) {
            let start = i;
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
            out.push(Tok::Ident(c[start..i].iter().collect()));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Tok::PathSep);
            i += 2;
        } else {
            out.push(match ch {
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                '*' => Tok::Star,
                _ => Tok::Other,
            });
            i += 1;
        }
    }
    out
}

/// Reads a path (or use tree) at `*i`, with `prefix` before it; pushes every full path.
fn use_tree(toks: &[Tok], i: &mut usize, mut path: Vec<String>, out: &mut Vec<Vec<String>>) {
    loop {
        match toks.get(*i) {
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                *i += 1;
            }
            Some(Tok::Open) => {
                *i += 1;
                loop {
                    if toks.get(*i) == Some(&Tok::Close) {
                        *i += 1;
                        return;
                    }
                    use_tree(toks, i, path.clone(), out);
                    if toks.get(*i) == Some(&Tok::Ident("as".into())) {
                        *i += 2;
                    }
                    match toks.get(*i) {
                        Some(Tok::Comma) => *i += 1,
                        Some(Tok::Close) => {
                            *i += 1;
                            return;
                        }
                        _ => return,
                    }
                }
            }
            Some(Tok::Star) => {
                *i += 1;
                out.push(path);
                return;
            }
            _ => {
                out.push(path);
                return;
            }
        }
        if toks.get(*i) == Some(&Tok::PathSep) {
            *i += 1;
        } else {
            out.push(path);
            return;
        }
    }
}

/// Every path in `code` that starts with `crate::`, `super::` or `self::`, as written.
fn relative_paths(code: &str) -> Vec<Vec<String>> {
    let toks = tokens(code);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let starts = matches!(&toks[i], Tok::Ident(s) if s == "crate" || s == "super" || s == "self")
            && toks.get(i + 1) == Some(&Tok::PathSep)
            && (i == 0 || toks[i - 1] != Tok::PathSep);
        if starts {
            use_tree(&toks, &mut i, Vec::new(), &mut out);
        } else {
            i += 1;
        }
    }
    out
}

/// The module a path written in `from` points into: the longest prefix of it that is a
/// module of the crate.
fn resolve(from: &[String], path: &[String], modules: &BTreeSet<ModPath>) -> ModPath {
    let mut segs = path.iter().peekable();
    let mut base: ModPath = match segs.next().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => from.to_vec(),
        Some("super") => from[..from.len().saturating_sub(1)].to_vec(),
        _ => unreachable!("relative_paths only yields crate::, self:: and super:: paths"),
    };
    while segs.peek().is_some_and(|s| *s == "super") {
        segs.next();
        base.pop();
    }
    base.extend(segs.filter(|s| *s != "self").cloned());
    while !modules.contains(&base) {
        base.pop();
    }
    base
}

/// The crate's module graph, from the files under `src`.
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rs_files(src, &mut files);
    let sources: Vec<(String, ModPath, String)> = files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(src).expect("under src");
            let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("reading {}: {e}", f.display()));
            (format!("src/{}", rel.display()), module_of(rel), text)
        })
        .collect();
    let modules: BTreeSet<ModPath> = sources.iter().map(|(_, m, _)| m.clone()).chain([Vec::new()]).collect();
    let mut g = Graph::new();
    for (file, from, text) in &sources {
        let code = strip_test_modules(&strip_comments_and_literals(text), file);
        let edges = g.entry(from.clone()).or_default();
        for path in relative_paths(&code) {
            let to = resolve(from, &path, &modules);
            if !to.is_empty() && to != *from {
                edges.entry(to).or_insert_with(|| format!("`{}` in {file}", path.join("::")));
            }
        }
    }
    g
}

/// A cycle in `g`, as the modules on it with the first repeated at the end.
fn find_cycle(g: &Graph) -> Option<Vec<ModPath>> {
    fn visit<'a>(g: &'a Graph, m: &'a ModPath, done: &mut BTreeSet<&'a ModPath>, stack: &mut Vec<&'a ModPath>) -> Option<Vec<ModPath>> {
        if let Some(pos) = stack.iter().position(|s| *s == m) {
            let mut cycle: Vec<ModPath> = stack[pos..].iter().map(|s| s.to_vec()).collect();
            cycle.push(m.clone());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        stack.push(m);
        for next in g.get(m).into_iter().flat_map(|e| e.keys()) {
            if let Some(c) = visit(g, next, done, stack) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(m);
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|m| visit(g, m, &mut done, &mut Vec::new()))
}

#[test]
fn the_server_module_graph_has_no_cycle() {
    let g = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(g.len() > 20, "expected the whole crate, read {} modules", g.len());
    assert!(
        g[&module_of(Path::new("runtime/token.rs"))].contains_key(&module_of(Path::new("services/tokens.rs"))),
        "the scanner should see runtime::token using services::tokens"
    );
    if let Some(cycle) = find_cycle(&g) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("  {} -> {} via {}", show(&w[0]), show(&w[1]), g[&w[0]][&w[1]]))
            .collect();
        panic!(
            "the module graph has a cycle: {}\n{}",
            cycle.iter().map(|m| show(m)).collect::<Vec<_>>().join(" -> "),
            steps.join("\n")
        );
    }
}

#[test]
fn the_scanner_reads_paths_as_rust_does() {
    let modules: BTreeSet<ModPath> = ["", "a", "a::b", "a::b::c", "d", "e"]
        .iter()
        .map(|s| s.split("::").filter(|x| !x.is_empty()).map(str::to_owned).collect())
        .collect();
    let from: ModPath = vec!["a".into(), "b".into()];
    // Each row: source written in module `a::b`, and the modules it uses (sorted, as `::` paths).
    let rows: &[(&str, &[&str])] = &[
        ("use crate::d::X;", &["d"]),
        ("use crate::a::{b::c::Y, self};", &["a", "a::b::c"]),
        ("use crate::{d::{self, Z as W}, e::*};", &["d", "e"]),
        ("use super::super::e;", &["e"]),
        ("use super::Q;", &["a"]),
        ("let x = self::c::f(1);", &["a::b::c"]),
        ("fn f() { crate::d::g::<u8>(); }", &["d"]),
        ("use crate::nothing::Here;", &[""]),
        ("// use crate::d;\n/* crate::e /* nested */ */ let s = \"crate::d\";", &[]),
        ("let u = \"https://x\"; use crate::e;", &["e"]),
        ("let r = r#\"crate::d \"quoted\"\"#; let q = '\"'; use crate::e;", &["e"]),
        ("fn f<'a>(x: &'a str) -> &'a str { crate::e::g(x) }", &["e"]),
        ("let c = '\\''; use crate::e;", &["e"]),
        (
            "#[cfg(test)]\nmod tests {\n use crate::d;\n fn t() { {} }\n}\nuse crate::e;",
            &["e"],
        ),
        ("#[cfg(test)]\n#[allow(unused)]\npub(crate) mod tests { use crate::d; }", &[]),
        ("#[cfg(test)]\nmod module_graph;\nuse crate::e;", &["e"]),
        ("impl X { fn f(&self) { self.g(); Self::h(); } }", &[]),
    ];
    for (src, want) in rows {
        let code = strip_test_modules(&strip_comments_and_literals(src), "row");
        let got: BTreeSet<String> = relative_paths(&code)
            .iter()
            .map(|p| resolve(&from, p, &modules).join("::"))
            .collect();
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "{src}");
    }
    assert_eq!(module_of(Path::new("runtime/token.rs")), ["runtime", "token"]);
    assert_eq!(module_of(Path::new("http/error/mod.rs")), ["http", "error"]);
    assert!(module_of(Path::new("lib.rs")).is_empty() && module_of(Path::new("main.rs")).is_empty());
}

#[test]
#[should_panic(expected = "inline module `inner` is not #[cfg(test)]")]
fn the_scanner_refuses_inline_modules() {
    strip_test_modules("mod inner { use super::x; }", "row");
}

#[test]
fn cycles_are_found() {
    // Each row: edges "a>b", and the cycle expected (modules joined by " -> "), if any.
    let rows: &[(&[&str], Option<&str>)] = &[
        (&[], None),
        (&["a>b", "b>c", "a>c"], None),
        (&["a>b", "b>a"], Some("a -> b -> a")),
        (&["a>b", "b>c", "c>d", "d>b"], Some("b -> c -> d -> b")),
        (&["x>y", "a>b", "b>c", "c>a"], Some("a -> b -> c -> a")),
        (&["a>b", "c>b", "d>c", "d>a"], None),
    ];
    for (edges, want) in rows {
        let mut g = Graph::new();
        for e in *edges {
            let (from, to) = e.split_once('>').unwrap();
            g.entry(vec![from.into()]).or_default().insert(vec![to.into()], String::new());
        }
        let got = find_cycle(&g).map(|c| c.iter().map(|m| show(m)).collect::<Vec<_>>().join(" -> "));
        assert_eq!(got.as_deref(), *want, "{edges:?}");
    }
}
