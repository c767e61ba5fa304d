//! The HTTP side of the protocol: JSON-RPC 2.0 POSTs to `<base>/upgrade/request/<verb>` and the
//! ranged `GET <base>/upgrade/request/logs?token=…`.

use std::io::Read;
use std::ops::ControlFlow;
use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where calls go: the configured server for `create`, the request's assigned host after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `scheme://authority` (no trailing slash).
    base: String,
    /// `authority` alone, for messages.
    host: String,
}

impl Endpoint {
    /// Parses a server URL (`https://upgrade.odoo.com`). Plain `http` is accepted only for a
    /// loopback host (a local stand-in), so TLS is never silently skipped on a real network.
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let url = url.trim().trim_end_matches('/');
        let (scheme, authority) = url.split_once("://").ok_or_else(|| {
            Error::Invalid(format!(
                "server URL `{url}` has no scheme: use https://HOST"
            ))
        })?;
        if authority.contains('/') || authority.contains('?') || authority.contains('@') {
            return Err(Error::Invalid(format!(
                "server URL `{url}` must be https://HOST[:PORT] with no path, query or user"
            )));
        }
        check_authority(authority)
            .map_err(|why| Error::Invalid(format!("server URL `{url}`: {why}")))?;
        match scheme {
            "https" => {}
            "http" if is_loopback(ssh_host(authority)) => {}
            "http" => {
                return Err(Error::Invalid(format!(
                    "server URL `{url}` is plain http: only https is allowed outside loopback"
                )))
            }
            _ => {
                return Err(Error::Invalid(format!(
                    "server URL `{url}` must start with https://"
                )))
            }
        }
        Ok(Endpoint {
            base: format!("{scheme}://{authority}"),
            host: authority.to_owned(),
        })
    }

    /// The endpoint of an `assigned_host_uri` / `host_uri` returned by the platform to `verb`:
    /// same scheme as `self`, that authority.
    pub(crate) fn assigned(&self, host_uri: &str, verb: &str) -> Result<Self> {
        let host_uri = host_uri.trim().trim_end_matches('/');
        let authority = host_uri
            .split_once("://")
            .map_or(host_uri, |(_, rest)| rest);
        check_authority(authority).map_err(|why| Error::BadReply {
            verb: verb.into(),
            host: self.host.clone(),
            detail: format!("assigned host `{host_uri}`: {why}"),
        })?;
        let scheme = self.base.split_once("://").map_or("https", |(s, _)| s);
        Endpoint::parse(&format!("{scheme}://{authority}"))
    }

    /// `scheme://authority`.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// `authority`, for messages and for the SSH host.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }
}

/// Checks that `authority` is `host[:port]` made of hostname characters (no option-like or shell
/// characters: it ends up in an `ssh` argument).
fn check_authority(authority: &str) -> std::result::Result<(), &'static str> {
    if authority.is_empty() {
        return Err("the host is empty");
    }
    if authority.starts_with('-') {
        return Err("the host starts with '-'");
    }
    let ok = authority
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !ok {
        return Err("the host has characters a host name cannot have");
    }
    Ok(())
}

/// The host part of `host[:port]` / `[v6]:port`, as `ssh` wants it.
pub(crate) fn ssh_host(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.split_once(':') {
        Some((host, port)) if !port.contains(':') => host,
        _ => authority,
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What a ranged log read brought.
#[derive(Debug)]
pub(crate) struct LogRead {
    /// The byte offset to ask from next time.
    pub(crate) offset: u64,
    /// Whether the sink asked to stop.
    pub(crate) stopped: bool,
}

/// A blocking HTTP agent with the configured timeouts.
pub(crate) struct Http {
    agent: ureq::Agent,
    connect_timeout: Duration,
    read_timeout: Duration,
}

impl Http {
    pub(crate) fn new(connect_timeout: Duration, read_timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(connect_timeout))
            .timeout_recv_response(Some(read_timeout))
            .timeout_per_read(Some(read_timeout))
            .timeout_per_write(Some(read_timeout))
            .user_agent(concat!("odoo-dump/", env!("CARGO_PKG_VERSION")))
            .build();
        Http {
            agent: config.into(),
            connect_timeout,
            read_timeout,
        }
    }

    /// POSTs `{"jsonrpc":"2.0","method":"not_used","params":…,"id":"not_used"}` to
    /// `<base>/upgrade/request/<verb>` and returns `result`. `result.error` and
    /// `error.data.message` become [`Error::Refused`]; `secrets` are masked in any server text.
    pub(crate) fn call(
        &self,
        endpoint: &Endpoint,
        verb: &str,
        params: Value,
        secrets: &[&Secret],
    ) -> Result<Value> {
        let url = format!("{}/upgrade/request/{verb}", endpoint.base);
        // `id` is not listed among the params: the official client sends it, JSON-RPC 2.0 wants it
        // for a call that expects an answer.
        let body =
            json!({"jsonrpc": "2.0", "method": "not_used", "params": params, "id": "not_used"})
                .to_string();
        let mut response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .map_err(|e| self.transport_error(e, verb, endpoint, secrets))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(Error::HttpStatus {
                verb: verb.into(),
                host: endpoint.host.clone(),
                status,
            });
        }
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| self.transport_error(e, verb, endpoint, secrets))?;
        let bad = |detail: String| Error::BadReply {
            verb: verb.into(),
            host: endpoint.host.clone(),
            detail: scrub(&detail, secrets),
        };
        let reply: Value = serde_json::from_str(&text)
            .map_err(|e| bad(format!("not JSON ({e}): {}", excerpt(&text))))?;
        let refused = |message: &Value| Error::Refused {
            verb: verb.into(),
            host: endpoint.host.clone(),
            message: scrub(&value_text(message), secrets),
        };
        if let Some(result) = reply.get("result") {
            if let Some(error) = result.get("error").filter(|e| !e.is_null()) {
                return Err(refused(error));
            }
            return Ok(result.clone());
        }
        if let Some(error) = reply.get("error") {
            let message = error
                .pointer("/data/message")
                .or_else(|| error.get("message"))
                .unwrap_or(error);
            return Err(refused(message));
        }
        Err(bad(format!(
            "neither `result` nor `error` in {}",
            excerpt(&text)
        )))
    }

    /// `GET <base>/upgrade/request/logs?token=…` with `Range: bytes=<offset>-`, streaming what is
    /// new to `sink`. Handles `206` (the range), `200` (whole log: the first `offset` bytes are
    /// skipped) and `416` (nothing new).
    pub(crate) fn logs(
        &self,
        endpoint: &Endpoint,
        token: &Secret,
        offset: u64,
        sink: &mut dyn FnMut(&[u8]) -> ControlFlow<()>,
    ) -> Result<LogRead> {
        const VERB: &str = "logs";
        let url = format!(
            "{}/upgrade/request/logs?token={}",
            endpoint.base,
            percent_encode(token.expose())
        );
        let secrets = [token];
        let response = self
            .agent
            .get(&url)
            .header("Range", format!("bytes={offset}-"))
            .call()
            .map_err(|e| self.transport_error(e, VERB, endpoint, &secrets))?;
        let mut skip = match response.status().as_u16() {
            206 => 0,
            200 => offset,
            416 => {
                return Ok(LogRead {
                    offset,
                    stopped: false,
                })
            }
            status => {
                return Err(Error::HttpStatus {
                    verb: VERB.into(),
                    host: endpoint.host.clone(),
                    status,
                })
            }
        };
        let mut reader = response.into_body().into_reader();
        let mut buf = vec![0u8; 64 * 1024];
        let mut offset = offset;
        loop {
            let n = reader.read(&mut buf).map_err(|e| {
                if is_io_timeout(&e) {
                    self.timeout(VERB, endpoint, self.read_timeout)
                } else {
                    Error::Unreachable {
                        verb: VERB.into(),
                        host: endpoint.host.clone(),
                        detail: scrub(&e.to_string(), &secrets),
                    }
                }
            })?;
            if n == 0 {
                return Ok(LogRead {
                    offset,
                    stopped: false,
                });
            }
            let dropped = skip.min(n as u64) as usize;
            skip -= dropped as u64;
            let fresh = &buf[dropped..n];
            if fresh.is_empty() {
                continue;
            }
            offset += fresh.len() as u64;
            if sink(fresh).is_break() {
                return Ok(LogRead {
                    offset,
                    stopped: true,
                });
            }
        }
    }

    fn timeout(&self, verb: &str, endpoint: &Endpoint, after: Duration) -> Error {
        Error::Timeout {
            verb: verb.into(),
            host: endpoint.host.clone(),
            seconds: after.as_secs_f64().ceil() as u64,
        }
    }

    fn transport_error(
        &self,
        error: ureq::Error,
        verb: &str,
        endpoint: &Endpoint,
        secrets: &[&Secret],
    ) -> Error {
        match &error {
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                self.timeout(verb, endpoint, self.connect_timeout)
            }
            ureq::Error::Timeout(_) => self.timeout(verb, endpoint, self.read_timeout),
            ureq::Error::Io(e) if is_io_timeout(e) => {
                self.timeout(verb, endpoint, self.read_timeout)
            }
            _ => Error::Unreachable {
                verb: verb.into(),
                host: endpoint.host.clone(),
                detail: scrub(&error.to_string(), secrets),
            },
        }
    }
}

fn is_io_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) || e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)))
}

fn scrub(text: &str, secrets: &[&Secret]) -> String {
    secrets
        .iter()
        .fold(text.to_owned(), |text, secret| secret.scrub(&text))
}

/// A JSON value as message text: strings bare, anything else as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first 200 characters of a reply, on one line.
fn excerpt(text: &str) -> String {
    let one_line: String = text
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    one_line.trim().to_owned()
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for the token in a query).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_https_or_loopback_http() {
        let e = Endpoint::parse("https://upgrade.odoo.com/").unwrap();
        assert_eq!(e.base(), "https://upgrade.odoo.com");
        assert_eq!(e.host(), "upgrade.odoo.com");
        assert!(Endpoint::parse("http://127.0.0.1:8069").is_ok());
        assert!(Endpoint::parse("http://[::1]:8069").is_ok());
        assert!(Endpoint::parse("http://upgrade.odoo.com").is_err());
        assert!(Endpoint::parse("ftp://upgrade.odoo.com").is_err());
        assert!(Endpoint::parse("upgrade.odoo.com").is_err());
        assert!(Endpoint::parse("https://x/upgrade").is_err());
        assert!(Endpoint::parse("https://-oProxyCommand=x").is_err());
    }

    #[test]
    fn assigned_host_keeps_the_scheme() {
        let e = Endpoint::parse("https://upgrade.odoo.com").unwrap();
        let a = e.assigned("upgrade-p3.odoo.com", "create").unwrap();
        assert_eq!(a.base(), "https://upgrade-p3.odoo.com");
        assert!(e.assigned("evil host; rm", "status").is_err());
        let local = Endpoint::parse("http://127.0.0.1:1").unwrap();
        assert_eq!(
            local.assigned("127.0.0.1:2", "create").unwrap().base(),
            "http://127.0.0.1:2"
        );
    }

    #[test]
    fn ssh_host_drops_the_port() {
        assert_eq!(ssh_host("upgrade.odoo.com"), "upgrade.odoo.com");
        assert_eq!(ssh_host("127.0.0.1:8069"), "127.0.0.1");
        assert_eq!(ssh_host("[::1]:8069"), "::1");
    }

    #[test]
    fn token_is_percent_encoded() {
        assert_eq!(percent_encode("a b&c=d~"), "a%20b%26c%3Dd~");
    }
}
