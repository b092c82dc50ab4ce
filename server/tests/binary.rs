//! The server binary as an operator runs it: `--help`, environment variables, a clear
//! error for bad settings, the first page, and a graceful exit on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_server");

#[test]
fn help_documents_every_option() {
    let output = Command::new(BIN).arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--address",
        "--port",
        "--log",
        "--config",
        "CHAT_PORT",
        "CHAT_ADDRESS",
        "Leptos.toml",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn bad_settings_fail_clearly() {
    let output = Command::new(BIN)
        .args(["--config", "/nonexistent/chat.toml"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/chat.toml"), "{stderr}");

    let output = Command::new(BIN)
        .env("CHAT_PORT", "not-a-port")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not-a-port"));
}

/// Starts the binary configured through the environment only, in an empty working
/// directory (where it creates its database); returns it, its address and the directory.
fn start() -> (Child, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env("CHAT_ADDRESS", "127.0.0.1")
        .env("CHAT_PORT", "0")
        .env("CHAT_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let addr = line[at + "listening on http://".len()..].trim().to_owned();
                let _ = tx.send(addr);
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("listening line");
    (child, addr, dir)
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

#[test]
fn serves_the_login_page_and_stops_on_sigterm() {
    let (mut child, addr, dir) = start();
    assert!(
        dir.path().join("chat.db").exists(),
        "the database is created in the working directory on first run"
    );
    let page = get(&addr, "/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("data-testid=\"login-form\""),
        "server-rendered login form"
    );
    assert!(page.contains("data-testid=\"name-input\""));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status after SIGTERM: {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
