//! Rate limiting per client IP and per bearer token (GCRA, `governor`), advertised with the
//! IETF `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers-11) and
//! answered with a 429 problem and `Retry-After` once a quota is spent.
//!
//! Every request counts against its client IP; a request with `Authorization: Bearer <token>`
//! counts against the token too (keyed by the token's SHA-256, so no token is kept in memory),
//! so inventing tokens never buys more than the IP's quota. `/healthz`, `/readyz` and `/metrics`
//! are exempt.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::error::{self, AppError};

pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Paths never limited: orchestrators probe them and Prometheus scrapes, often, from addresses
/// that may also carry client traffic; each is cheap.
const EXEMPT: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Every window is a minute; GCRA refills one request every `60 s / quota`.
const WINDOW_SECS: u64 = 60;

/// Forgotten keys are swept after this many checks (memory stays bounded by the active keys).
const SWEEP_EVERY: u64 = 4096;

/// Where the client's address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ClientIpSource {
    /// The TCP peer: right whenever clients connect directly.
    #[default]
    Peer,
    /// The last (rightmost) address of `X-Forwarded-For`: the one the nearest proxy added.
    XForwardedFor,
    /// The last `for=` of `Forwarded` (RFC 7239): the one the nearest proxy added.
    Forwarded,
}

/// Quotas in requests per minute; 0 turns a limit off.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimitConfig {
    pub per_ip_per_minute: u32,
    pub per_token_per_minute: u32,
    pub client_ip: ClientIpSource,
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// One named quota and its per-key state.
struct Policy<K: std::hash::Hash + Eq + Clone> {
    name: &'static str,
    quota: Quota,
    limiter: Keyed<K>,
}

/// What one policy decided for one request.
struct Decision {
    name: &'static str,
    quota: u32,
    remaining: u32,
    /// Seconds until the whole quota is available again.
    reset: u64,
    /// Set when refused: seconds until one request is allowed.
    retry_after: Option<u64>,
}

impl<K: std::hash::Hash + Eq + Clone> Policy<K> {
    fn new(name: &'static str, per_minute: u32) -> Option<Self> {
        let burst = NonZeroU32::new(per_minute)?;
        let quota = Quota::per_minute(burst);
        Some(Policy {
            name,
            quota,
            limiter: RateLimiter::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
        })
    }

    fn check(&self, key: &K) -> Decision {
        let burst = self.quota.burst_size().get();
        let interval = self.quota.replenish_interval();
        match self.limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    name: self.name,
                    quota: burst,
                    remaining,
                    reset: whole_seconds(interval * (burst - remaining)),
                    retry_after: None,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Decision {
                    name: self.name,
                    quota: burst,
                    remaining: 0,
                    reset: whole_seconds(wait + interval * (burst - 1)),
                    retry_after: Some(whole_seconds(wait).max(1)),
                }
            }
        }
    }

    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    fn describe(&self) -> String {
        format!(
            "\"{}\";q={};w={WINDOW_SECS}",
            self.name,
            self.quota.burst_size()
        )
    }
}

fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// The limiters of one server, shared by all its workers.
pub struct RateLimits {
    per_ip: Option<Policy<IpAddr>>,
    per_token: Option<Policy<[u8; 32]>>,
    client_ip: ClientIpSource,
    checks: AtomicU64,
}

impl RateLimits {
    /// `None` when both quotas are 0 (rate limiting off).
    pub fn new(config: &RateLimitConfig) -> Option<Self> {
        let per_ip = Policy::new("per-ip", config.per_ip_per_minute);
        let per_token = Policy::new("per-token", config.per_token_per_minute);
        if per_ip.is_none() && per_token.is_none() {
            return None;
        }
        Some(RateLimits {
            per_ip,
            per_token,
            client_ip: config.client_ip,
            checks: AtomicU64::new(0),
        })
    }

    /// The `RateLimit-Policy` value of a request with or without a token.
    fn policies(&self, with_token: bool) -> String {
        let mut listed = Vec::new();
        if let Some(p) = &self.per_ip {
            listed.push(p.describe());
        }
        if let (Some(p), true) = (&self.per_token, with_token) {
            listed.push(p.describe());
        }
        listed.join(", ")
    }

    /// Checks the IP quota, then (only if that allowed the request) the token's.
    fn check(&self, ip: IpAddr, token: Option<[u8; 32]>) -> Vec<Decision> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            if let Some(p) = &self.per_ip {
                p.sweep();
            }
            if let Some(p) = &self.per_token {
                p.sweep();
            }
        }
        let mut decisions = Vec::with_capacity(2);
        if let Some(p) = &self.per_ip {
            decisions.push(p.check(&ip));
            if decisions[0].retry_after.is_some() {
                return decisions;
            }
        }
        if let (Some(p), Some(token)) = (&self.per_token, token) {
            decisions.push(p.check(&token));
        }
        decisions
    }

    fn client_ip(&self, req: &ServiceRequest) -> IpAddr {
        let forwarded = match self.client_ip {
            ClientIpSource::Peer => None,
            ClientIpSource::XForwardedFor => last_value(req, "x-forwarded-for")
                .and_then(|v| v.rsplit(',').next().map(str::to_owned))
                .and_then(|v| parse_node(&v)),
            ClientIpSource::Forwarded => last_value(req, "forwarded").and_then(|v| {
                v.rsplit(',').next().and_then(|element| {
                    element.split(';').find_map(|pair| {
                        let (name, value) = pair.split_once('=')?;
                        name.trim()
                            .eq_ignore_ascii_case("for")
                            .then(|| parse_node(value))?
                    })
                })
            }),
        };
        // Without a usable header (or a peer: test requests, Unix sockets) the peer's address,
        // else one shared bucket.
        let ip = forwarded
            .or_else(|| req.peer_addr().map(|a| a.ip()))
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        bucket(ip)
    }
}

/// The last instance of a header, as text.
fn last_value(req: &ServiceRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(name)
        .last()
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// An address from `1.2.3.4`, `1.2.3.4:5678`, `"[2001:db8::1]:443"` or `2001:db8::1`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let text = raw.trim().trim_matches('"');
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    text.rsplit_once(':')?.0.parse().ok()
}

/// IPv6 clients are limited per /64 (one subscriber usually holds a whole /64); IPv4-mapped
/// addresses count as IPv4.
fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The SHA-256 of a bearer token, if the request carries one.
fn bearer_token(req: &ServiceRequest) -> Option<[u8; 32]> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return None;
    }
    Some(Sha256::digest(token.as_bytes()).into())
}

/// Middleware: checks the quotas, answers 429 when one is spent, and states the policies and
/// what is left on every answer (off unless the app has `RateLimits`).
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let limits = req.app_data::<web::Data<RateLimits>>().cloned();
    let Some(limits) = limits.filter(|_| !EXEMPT.contains(&req.path())) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let token = bearer_token(&req);
    let decisions = limits.check(limits.client_ip(&req), token);
    let refused = decisions
        .iter()
        .find(|d| d.retry_after.is_some())
        .map(|d| (d.name, d.quota, d.retry_after.unwrap_or(1)));
    let mut res = match refused {
        Some((name, quota, retry_after)) => {
            let err = AppError::TooManyRequests {
                detail: format!(
                    "rate limit {name:?} of {quota} requests per {WINDOW_SECS} s is spent; \
                     retry after {retry_after} s"
                ),
                retry_after,
            };
            let response = error::problem_response(&err, req.request());
            req.into_response(response).map_into_right_body()
        }
        None => next.call(req).await?.map_into_left_body(),
    };
    let state = decisions
        .iter()
        .map(|d| format!("\"{}\";r={};t={}", d.name, d.remaining, d.reset))
        .collect::<Vec<_>>()
        .join(", ");
    let headers = res.headers_mut();
    for (name, value) in [
        (RATELIMIT_POLICY, limits.policies(token.is_some())),
        (RATELIMIT, state),
    ] {
        // No policy applied (e.g. only the per-token limit is on and no token was sent): no
        // fields, rather than empty ones.
        if value.is_empty() {
            continue;
        }
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_nodes_parse_with_ports_and_brackets() {
        for (raw, ip) in [
            ("203.0.113.7", "203.0.113.7"),
            (" 203.0.113.7:4711", "203.0.113.7"),
            ("\"[2001:db8::1]:443\"", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
        ] {
            assert_eq!(parse_node(raw), Some(ip.parse().unwrap()), "{raw}");
        }
        assert_eq!(parse_node("unknown"), None);
        assert_eq!(parse_node("_hidden"), None);
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let a = bucket("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = bucket("2001:db8:1:2:bbbb::2".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, bucket("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(
            bucket("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }
}
