//! Plain HTTP/1.1 over a TCP connection of its own (`Connection: close`, read to the end):
//! enough for a log-in (`POST /api/session`) and for page loads, with no HTTP client
//! library in the measurement path.

use std::net::IpAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::wire;

/// What came back: the status, the headers (names lowercased) and the body's length.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body_bytes: usize,
}

impl Response {
    /// The value of the cookie `name` the response sets, if it sets it.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(header, _)| header == "set-cookie")
            .filter_map(|(_, value)| value.split(';').next()?.trim().split_once('='))
            .find(|(cookie, _)| *cookie == name)
            .map(|(_, value)| value)
    }
}

/// One request to the server at `url` (`http://host:port`) from `source` (none: the
/// system's choice): `method path`, the extra `headers`, and a body if any.
pub async fn request(
    url: &str,
    source: Option<IpAddr>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, String> {
    let mut stream = wire::tcp(url, source).await?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        wire::authority(url)
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method != "GET" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    stream
        .write_all(&out)
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    parse(&answer).ok_or_else(|| format!("{method} {path}: not an HTTP response"))
}

/// The status line, headers and body length of a whole response.
fn parse(answer: &[u8]) -> Option<Response> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&answer[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(Response {
        status,
        headers,
        body_bytes: answer.len() - end - 4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_and_the_cookie() {
        let answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
            Set-Cookie: other=1\r\nset-cookie: chat_session=abc_-1; HttpOnly; Path=/\r\n\r\n{}";
        let response = parse(answer).expect("a response");
        assert_eq!(response.status, 200);
        assert_eq!(response.body_bytes, 2);
        assert_eq!(response.set_cookie("chat_session"), Some("abc_-1"));
        assert_eq!(response.set_cookie("nope"), None);
        assert!(parse(b"HTTP/1.1 200 OK\r\n").is_none());
    }
}
