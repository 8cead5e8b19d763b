//! Running the binary and talking HTTP to it without extra dependencies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_jsmkit");

/// A `jsmkit` command with a clean environment (no JSMKIT_* leaking in from the caller) and
/// the repo's `web/static` as assets folder, run in `dir`.
pub fn jsmkit(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("JSMKIT_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir)
        .env("JSMKIT_SERVER_METRICS_LISTEN", "127.0.0.1:0")
        .env(
            "JSMKIT_SERVER_ASSETS_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/static"),
        )
        .env("JSMKIT_LOG_FORMAT", "json")
        .stdin(Stdio::null());
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run jsmkit")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running server; killed when dropped if still running.
pub struct Running {
    pub child: Child,
    pub addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` (a `demo` with `--listen 127.0.0.1:0`) and waits for its banner line.
pub fn start_demo(mut cmd: Command) -> Running {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn jsmkit demo");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let banner = lines
        .next()
        .expect("demo printed nothing")
        .expect("read banner");
    let addr = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ' ', ')']).next())
        .unwrap_or_else(|| panic!("no address in banner {banner:?}"))
        .to_string();
    // Keep draining stdout so the server never writes into a closed pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Running { child, addr }
}

/// One HTTP/1.1 request; returns (status, headers lower-cased, body).
pub fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String, String) {
    http_with(addr, method, path, "", body)
}

/// [`http`] with extra header lines (each ending in `\r\n`).
pub fn http_with(
    addr: &str,
    method: &str,
    path: &str,
    extra_headers: &str,
    body: Option<&str>,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra_headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// Sends SIGTERM (through kill(1): the workspace forbids unsafe code).
pub fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -TERM failed");
}
