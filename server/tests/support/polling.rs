//! A Socket.IO client over HTTP long-polling (the default start of official clients),
//! speaking plain HTTP/1.1 over a TCP socket.

use std::net::SocketAddr;

use app::client::codec::{self, Incoming};
use app::protocol::{ClientEvent, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{TestServer, EVENT_TIMEOUT};

/// Engine.IO separates the packets of one polling payload with this.
const SEPARATOR: char = '\u{1e}';

pub struct PollingClient {
    addr: SocketAddr,
    sid: String,
}

impl PollingClient {
    /// Handshake over polling, then connects to the namespace.
    pub async fn connect(server: &TestServer) -> Self {
        let mut client = Self {
            addr: server.addr,
            sid: String::new(),
        };
        let body = client.request("GET", None).await;
        let Ok(Incoming::Open(open)) = codec::decode(&body) else {
            panic!("polling handshake: {body:?}")
        };
        client.sid = open.sid.to_string();
        // The lobby protocol.
        client.post("40").await;
        let packets = client.poll().await;
        assert!(
            packets.contains(&Incoming::Connected),
            "not connected: {packets:?}"
        );
        client
    }

    pub async fn emit(&self, event: ClientEvent) {
        self.post(&codec::encode(&event).expect("encodable")).await;
    }

    /// Collects events until `count` have arrived.
    pub async fn events(&self, count: usize) -> Vec<ServerEvent> {
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        while events.len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "got {} of {count} events; the last: {:?}",
                events.len(),
                events.last()
            );
            for packet in self.poll().await {
                if let Incoming::Event(event) = packet {
                    events.push(event);
                }
            }
        }
        events
    }

    /// One poll: the packets the server had queued (answering pings).
    async fn poll(&self) -> Vec<Incoming> {
        let body = self.request("GET", None).await;
        let mut packets = Vec::new();
        for frame in body.split(SEPARATOR).filter(|f| !f.is_empty()) {
            // Events in full (the browser codec reads only the rooms protocol's).
            if let Some(event) = frame.strip_prefix("42") {
                packets.push(Incoming::Event(super::decode_event(event, "polling")));
                continue;
            }
            match codec::decode(frame) {
                Ok(Incoming::Ping) => self.post(&codec::pong()).await,
                Ok(packet) => packets.push(packet),
                Err(error) => panic!("undecodable polling frame {frame:?}: {error}"),
            }
        }
        packets
    }

    async fn post(&self, frame: &str) {
        let body = self.request("POST", Some(frame)).await;
        assert_eq!(body, "ok", "POST {frame:?}");
    }

    async fn request(&self, method: &str, body: Option<&str>) -> String {
        let mut path = "/socket.io/?EIO=4&transport=polling".to_owned();
        if !self.sid.is_empty() {
            path.push_str("&sid=");
            path.push_str(&self.sid);
        }
        let body = body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = Vec::new();
        tokio::time::timeout(EVENT_TIMEOUT * 6, stream.read_to_end(&mut response))
            .await
            .expect("response in time")
            .expect("read");
        let response = String::from_utf8(response).expect("utf-8");
        let (head, body) = response.split_once("\r\n\r\n").expect("http response");
        assert!(
            head.starts_with("HTTP/1.1 200"),
            "{method} {path}: {head}\n{body}"
        );
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        }
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("chunk size");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex size");
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}
