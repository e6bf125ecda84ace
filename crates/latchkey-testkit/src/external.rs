//! Running external programs (the Node and Python client libraries under `compat/`, found
//! with [`compat_dir`](crate::compat_dir)) against a test server: the prerequisite check that
//! skips a test, or fails it when `LATCHKEY_REQUIRE_COMPAT=1` (as in CI), and a runner with a
//! timeout that captures the program's output.

use std::ffi::OsStr;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` to turn a missing prerequisite into a failure instead of a skip.
pub const REQUIRE_ENV: &str = "LATCHKEY_REQUIRE_COMPAT";

/// Whether `LATCHKEY_REQUIRE_COMPAT=1`.
pub fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// Whether the test should run, given the first missing prerequisite (`None` when nothing is
/// missing). When something is missing, prints why the test is skipped and returns `false`, or
/// panics when `LATCHKEY_REQUIRE_COMPAT=1`. `how_to_fix` says how to install what is missing.
#[track_caller]
pub fn prerequisites(problem: Option<String>, how_to_fix: &str) -> bool {
    match problem {
        None => true,
        Some(p) if required() => panic!("{p}; {REQUIRE_ENV}=1 requires this test to run: {how_to_fix}"),
        Some(p) => {
            eprintln!("skipped: {p}; {how_to_fix} (set {REQUIRE_ENV}=1 to make this a failure)");
            false
        }
    }
}

/// Whether `program args…` starts and exits 0, with no input and its output discarded.
pub fn succeeds(program: impl AsRef<OsStr>, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `program --version` is found on `PATH` and succeeds.
pub fn on_path(program: &str) -> bool {
    succeeds(program, &["--version"])
}

/// What a program run by [`run`] did.
pub struct Run {
    /// `None` when the program was killed for taking too long.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    /// The limit it ran under, for the failure message.
    pub timeout: Duration,
}

impl Run {
    /// Whether the program exited 0 in time.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Panics with both outputs unless the program exited 0 in time; otherwise prints them.
    /// `what` names the program (e.g. the script) and `server` the server it ran against.
    #[track_caller]
    pub fn assert_success(&self, what: &str, server: &str) {
        if self.success() {
            print!("{}", self.stdout);
            if !self.stderr.trim().is_empty() {
                eprintln!("{what} stderr:\n{}", self.stderr);
            }
            return;
        }
        let outcome = match self.status {
            Some(status) => format!("failed with {status}"),
            None => format!("timed out after {:?}", self.timeout),
        };
        panic!(
            "{what} {outcome} against {server} ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
            crate::backend(),
            self.stdout,
            self.stderr,
        );
    }
}

/// Runs `program args…` in `cwd` with `envs` added to the environment and no input, killing
/// it after `timeout`; captures its stdout and stderr. The wait happens on a blocking thread,
/// so an in-process test server keeps answering the program meanwhile. Panics if the program
/// cannot be started.
pub async fn run(program: impl Into<PathBuf>, args: &[&str], cwd: &Path, envs: &[(&str, String)], timeout: Duration) -> Run {
    let program = program.into();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let cwd = cwd.to_path_buf();
    let envs: Vec<(String, String)> = envs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    tokio::task::spawn_blocking(move || run_blocking(&program, &args, &cwd, &envs, timeout))
        .await
        .expect("program runner thread")
}

fn run_blocking(program: &Path, args: &[String], cwd: &Path, envs: &[(String, String)], timeout: Duration) -> Run {
    let name = format!("{} {}", program.display(), args.join(" "));
    // Files, not pipes: a program that writes a lot cannot block on a full pipe, and reading
    // back cannot hang on a pipe some leftover child still holds open.
    let mut stdout = tempfile::tempfile().expect("create stdout file");
    let mut stderr = tempfile::tempfile().expect("create stderr file");
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().expect("share stdout file"))
        .stderr(stderr.try_clone().expect("share stderr file"));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().unwrap_or_else(|e| panic!("wait for {name}: {e}")) {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    Run {
        status,
        stdout: read_back(&mut stdout),
        stderr: read_back(&mut stderr),
        timeout,
    }
}

/// Everything written to `file`, as text (invalid UTF-8 replaced).
fn read_back(file: &mut std::fs::File) -> String {
    let mut bytes = Vec::new();
    let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_end(&mut bytes));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A program driven line by line: the test reads the lines it prints and answers on its
/// stdin (the MCP client scripts under `compat/`). Killed when dropped; every wait is bounded.
pub struct Interactive {
    name: String,
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    stderr: std::fs::File,
    transcript: Vec<String>,
}

impl Interactive {
    pub fn start(program: impl AsRef<OsStr>, args: &[&str], cwd: &Path, envs: &[(&str, String)]) -> Interactive {
        use tokio::io::AsyncBufReadExt;
        let name = format!("{} {}", program.as_ref().to_string_lossy(), args.join(" "));
        let stderr = tempfile::tempfile().expect("create stderr file");
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.try_clone().expect("share stderr file"))
            .kill_on_drop(true);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let lines = tokio::io::BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        Interactive {
            name,
            child,
            stdin,
            lines,
            stderr,
            transcript: Vec::new(),
        }
    }

    /// What was said both ways so far, and the program's stderr.
    pub fn transcript(&mut self) -> String {
        format!(
            "--- {} ---\n{}\n--- stderr ---\n{}",
            self.name,
            self.transcript.join("\n"),
            read_back(&mut self.stderr)
        )
    }

    pub async fn send(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        self.transcript.push(format!("> {line}"));
        let sent = self.stdin.write_all(format!("{line}\n").as_bytes()).await;
        if sent.is_err() || self.stdin.flush().await.is_err() {
            panic!("the program stopped reading its input\n{}", self.transcript());
        }
    }

    /// The next line the program prints, which must start with `kind`; returns the rest.
    pub async fn expect(&mut self, kind: &str, timeout: Duration) -> String {
        let line = match tokio::time::timeout(timeout, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Ok(Err(_)) => panic!("the program ended while a {kind} line was expected\n{}", self.transcript()),
            Err(_) => panic!("no {kind} line within {timeout:?}\n{}", self.transcript()),
        };
        self.transcript.push(format!("< {line}"));
        match line.strip_prefix(kind) {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => rest.trim_start().to_owned(),
            _ => panic!("expected a {kind} line\n{}", self.transcript()),
        }
    }

    /// Skips lines until one that starts with `prefix` (within `timeout` in all); returns it whole.
    pub async fn until(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let line = match tokio::time::timeout_at(deadline, self.lines.next_line()).await {
                Ok(Ok(Some(line))) => line,
                Ok(Ok(None)) | Ok(Err(_)) => panic!("the program ended before printing {prefix}…\n{}", self.transcript()),
                Err(_) => panic!("no line starting with {prefix} within {timeout:?}\n{}", self.transcript()),
            };
            self.transcript.push(format!("< {line}"));
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// Reads what the program still prints until it exits, and checks that it succeeded;
    /// returns the whole transcript.
    pub async fn finish(mut self, timeout: Duration) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        while let Ok(Ok(Some(line))) = tokio::time::timeout_at(deadline, self.lines.next_line()).await {
            self.transcript.push(format!("< {line}"));
        }
        match tokio::time::timeout_at(deadline, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => self.transcript(),
            Ok(Ok(status)) => panic!("the program exited with {status}\n{}", self.transcript()),
            _ => panic!("the program did not exit within {timeout:?}\n{}", self.transcript()),
        }
    }
}
