//! The server binary as an operator runs it: `--help`, environment variables, a clear
//! error for bad settings, the first page, and a graceful exit on SIGTERM (the database
//! closed after the last write).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream as AsyncTcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<AsyncTcpStream>>;

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
        "--database-url",
        "CHAT_DATABASE_URL",
        "--redis-url",
        "CHAT_REDIS_URL",
        "--log-format",
        "--message-rate",
        "--login-rate",
        "--max-connections",
        "--allowed-origins",
        "--trusted-proxies",
        "--public-url",
        "--admin-token",
        "CHAT_ADMIN_TOKEN",
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

/// The admin token opens `/admin` and `/metrics`, and shows nowhere: not in `--help`
/// (even when it is in the environment), not in a refusal, not in a log line (at trace
/// level too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_token_opens_admin_and_metrics_and_never_shows() {
    const TOKEN: &str = "tok-3f9a1c77e2b4d5";
    let help = Command::new(BIN)
        .arg("--help")
        .env("CHAT_ADMIN_TOKEN", TOKEN)
        .output()
        .expect("runs");
    assert!(!String::from_utf8_lossy(&help.stdout).contains(TOKEN));

    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args(["--address", "127.0.0.1", "--port", "0"])
        .env("CHAT_ADMIN_TOKEN", TOKEN)
        .env("CHAT_LOG", "trace")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    for (output, tx) in [
        (Box::new(stdout) as Box<dyn Read + Send>, Some(tx)),
        (Box::new(stderr), None),
    ] {
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                if let (Some(at), Some(tx)) = (line.find("listening on http://"), &tx) {
                    let _ = tx.send(line[at + "listening on http://".len()..].trim().to_owned());
                }
                lines.lock().expect("log").push(line);
            }
        });
    }
    let addr: String = rx.recv_timeout(Duration::from_secs(10)).expect("listening");

    let metrics = |authorization: &str| {
        let mut stream = TcpStream::connect(&addr).expect("connect");
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n{authorization}Connection: close\r\n\r\n"
        )
        .expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    };
    assert!(metrics("").starts_with("HTTP/1.1 401"));
    let wrong = metrics("Authorization: Bearer tok-wrong\r\n");
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    assert!(!wrong.contains(TOKEN));

    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
    ws.send(Message::text(r#"40/admin,{"token":"tok-wrong"}"#))
        .await
        .expect("connect");
    until_frame(&mut ws, r#"44/admin,{"message":"unauthorized"}"#).await;
    ws.send(Message::text(format!(r#"40/admin,{{"token":"{TOKEN}"}}"#)))
        .await
        .expect("connect");
    until_frame(&mut ws, "40/admin,{").await;
    ws.send(Message::text(
        r#"42/admin,5["announce",{"message":"maintenance at 5"}]"#,
    ))
    .await
    .expect("announce");
    until_frame(&mut ws, r#"43/admin,5[{"ok":true}]"#).await;
    // The refusal above is counted.
    let open = metrics(&format!("Authorization: Bearer {TOKEN}\r\n"));
    assert!(open.starts_with("HTTP/1.1 200"), "{open}");
    assert!(
        open.contains(r#"chat_refused_total{reason="unauthorized"} 1"#),
        "{open}"
    );

    terminate(&mut child);
    let log = log.lock().expect("log");
    assert!(
        log.iter()
            .any(|line| line.contains("an administrator connected")),
        "the admin connection is logged:\n{}",
        log.join("\n")
    );
    let leaks: Vec<&String> = log.iter().filter(|line| line.contains(TOKEN)).collect();
    assert!(leaks.is_empty(), "the token in the log: {leaks:#?}");
}

/// Starts the binary configured through the environment only, in an empty working
/// directory (where it creates its database); returns it, its address and the directory.
fn start() -> (Child, String, tempfile::TempDir) {
    let (child, addr, dir, _) = start_logged();
    (child, addr, dir)
}

/// [`start`], also keeping every line the server logs.
fn start_logged() -> (Child, String, tempfile::TempDir, Arc<Mutex<Vec<String>>>) {
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
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let addr = line[at + "listening on http://".len()..].trim().to_owned();
                let _ = tx.send(addr);
            }
            lines.lock().expect("log").push(line);
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("listening line");
    (child, addr, dir, log)
}

fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status after SIGTERM: {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A socket logged in as `name` with raw Socket.IO frames.
async fn logged_in(addr: &str, name: &str) -> Ws {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
    ws.send(Message::text("40")).await.expect("connect");
    until_frame(&mut ws, "40").await;
    ws.send(Message::text(format!("42[\"login\",\"{name}\"]")))
        .await
        .expect("login");
    until_frame(&mut ws, "42[\"welcome\"").await;
    ws
}

async fn until_frame(ws: &mut Ws, prefix: &str) {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {prefix} frame in time"))
            .expect("the socket stays open")
            .expect("a frame");
        match frame.to_text() {
            Ok(text) if text.starts_with(prefix) => return,
            Ok("2") => ws.send(Message::text("3")).await.expect("pong"),
            _ => {}
        }
    }
}

/// Users who leave right before a SIGTERM (no session: each is retired, freeing their
/// name) are retired before the database closes, so the shutdown logs no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigterm_right_after_users_leave_closes_the_database_last() {
    let (mut child, addr, _dir, log) = start_logged();
    let mut sockets = Vec::new();
    for i in 0..20 {
        sockets.push(logged_in(&addr, &format!("user{i:02}")).await);
    }
    for ws in &mut sockets {
        ws.close(None).await.expect("close");
    }
    terminate(&mut child);
    let log = log.lock().expect("log");
    assert!(
        log.iter().any(|line| line.contains("stopped")),
        "the server says it stopped:\n{}",
        log.join("\n")
    );
    let errors: Vec<&String> = log.iter().filter(|line| line.contains("ERROR")).collect();
    assert!(errors.is_empty(), "errors at shutdown: {errors:#?}");
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

    terminate(&mut child);
}

#[test]
fn json_logs_are_one_object_per_line_naming_their_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "--address",
            "127.0.0.1",
            "--port",
            "0",
            "--log-format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let parsed = serde_json::from_str(&line)
                .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}"));
            if tx.send(parsed).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("a log line")
    };
    let addr = loop {
        let line = next();
        let message = line["fields"]["message"].as_str().unwrap_or_default();
        if let Some(addr) = message.strip_prefix("listening on http://") {
            assert_eq!(line["level"], "INFO", "{line}");
            break addr.to_owned();
        }
    };
    // Something logged while serving a request names that request.
    let mut stream = TcpStream::connect(&addr).expect("connect");
    write!(
        stream,
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {addr}\r\n\
         Origin: https://evil.example\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    let refused = loop {
        let line = next();
        if line["fields"]["message"] == "refused a request from another origin" {
            break line;
        }
    };
    assert_eq!(refused["spans"][0]["name"], "request", "{refused}");
    assert_eq!(refused["spans"][0]["path"], "/socket.io/", "{refused}");
    terminate(&mut child);
}
