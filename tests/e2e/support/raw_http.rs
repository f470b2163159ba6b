//! HTTP answers read off a raw TCP connection, for tests that send
//! requests no HTTP client would.

/// Reads a raw HTTP/1.1 answer until the connection closes or the JSON body
/// is complete: (status, body). `None` when the host closed the connection
/// without answering.
pub fn read_raw_answer(stream: &mut std::net::TcpStream) -> Option<(u16, String)> {
    use std::io::Read;
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        received.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&received);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|value| value.parse::<usize>().ok());
            if length.is_some_and(|length| body.len() >= length) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&received).into_owned();
    let status = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    Some((status, body))
}
