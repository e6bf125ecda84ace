//! The change feed: `GET {gateway_url}/v1/authz/changes`, server-sent events carrying the
//! deployment's *generation*, a number that moves whenever something committed could change
//! a gateway answer (a revocation; a grant, client, app, user, session, scope mapping or
//! membership change). Whoever keeps gateway answers (a cache of allowed checks) drops them
//! when it moves, and keeps none while the feed is not connected.
//!
//! ```no_run
//! use latchkey_client::{LatchkeyClient, LatchkeyConfig};
//!
//! # async fn run() -> latchkey_client::Result<()> {
//! let client = LatchkeyClient::new(LatchkeyConfig::new("lk_api_…", "http://127.0.0.1:8080"))?;
//! let mut feed = client.gateway().changes().await?;
//! while let Some(generation) = feed.next_generation().await? {
//!     println!("gateway answers may have changed (generation {generation})");
//! }
//! # Ok(()) }
//! ```

use std::time::Duration;

use crate::client::LatchkeyClient;
use crate::error::{Error, Result};

/// The server says something at least every 15 seconds; this much silence is a dead feed.
pub const FEED_IDLE_TIMEOUT: Duration = Duration::from_secs(45);
/// The longest event the feed accepts (its events are a few bytes).
const MAX_EVENT: usize = 4096;

/// An open change feed; read it with [`ChangeFeed::next_generation`].
#[derive(Debug)]
pub struct ChangeFeed {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

pub(crate) async fn open(client: &LatchkeyClient) -> Result<ChangeFeed> {
    let response = client.change_feed_request().send().await?;
    let status = response.status().as_u16();
    if !(200..=299).contains(&status) {
        let body = response.bytes().await?;
        return Err(Error::from_answer(status, &body));
    }
    Ok(ChangeFeed {
        response,
        buffer: Vec::new(),
    })
}

impl ChangeFeed {
    /// Waits for the next generation. The first comes at once (the current one); later ones
    /// when something changed. `Ok(None)` when the server ended the feed (it is shutting
    /// down); `Err` when the connection failed, went silent for [`FEED_IDLE_TIMEOUT`], or
    /// sent something that is not the feed. Either way, reconnect with
    /// [`GatewayApi::changes`](crate::gateway::GatewayApi::changes) and treat everything
    /// kept meanwhile as stale.
    pub async fn next_generation(&mut self) -> Result<Option<u64>> {
        loop {
            while let Some(event) = take_event(&mut self.buffer) {
                if let Some(generation) = generation_of(&event)? {
                    return Ok(Some(generation));
                }
            }
            if self.buffer.len() > MAX_EVENT {
                return Err(Error::Decode("the change feed sent an over-long event".into()));
            }
            match tokio::time::timeout(FEED_IDLE_TIMEOUT, self.response.chunk()).await {
                Err(_) => return Err(Error::Decode("the change feed went silent".into())),
                Ok(Err(e)) => return Err(e.into()),
                Ok(Ok(None)) => return Ok(None),
                Ok(Ok(Some(bytes))) => self.buffer.extend_from_slice(&bytes),
            }
        }
    }
}

/// Removes the first complete event (up to a blank line, `\n\n` or `\r\n\r\n`) from
/// `buffer`; the rest stays for later.
fn take_event(buffer: &mut Vec<u8>) -> Option<String> {
    let find = |needle: &[u8]| buffer.windows(needle.len()).position(|w| w == needle).map(|i| (i, needle.len()));
    let (end, blank) = [find(b"\n\n"), find(b"\r\n\r\n")].into_iter().flatten().min()?;
    let event: Vec<u8> = buffer.drain(..end + blank).collect();
    Some(String::from_utf8_lossy(&event[..end]).into_owned())
}

/// The generation of a `generation` event; `None` for keep-alive comments and other events.
fn generation_of(event: &str) -> Result<Option<u64>> {
    let mut name = "message";
    let mut data = None;
    for line in event.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            data = Some(v.trim());
        }
    }
    match (name, data) {
        ("generation", Some(d)) => d
            .parse()
            .map(Some)
            .map_err(|_| Error::Decode(format!("the change feed sent a generation that is not a number: {d:?}"))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_and_read() {
        let mut buffer = b": keep-alive\n\nevent: generation\r\ndata: 41\r\n\r\nevent: generation\ndata: 4".to_vec();
        let first = take_event(&mut buffer).unwrap();
        assert_eq!(generation_of(&first).unwrap(), None, "a comment carries no generation");
        let second = take_event(&mut buffer).unwrap();
        assert_eq!(generation_of(&second).unwrap(), Some(41));
        assert!(take_event(&mut buffer).is_none(), "the third event is not complete yet");
        buffer.extend_from_slice(b"2\n\n");
        assert_eq!(generation_of(&take_event(&mut buffer).unwrap()).unwrap(), Some(42));
        assert!(generation_of("event: generation\ndata: x").is_err());
        assert_eq!(generation_of("event: other\ndata: 7").unwrap(), None);
    }
}
