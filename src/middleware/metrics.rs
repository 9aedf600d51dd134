//! Prometheus metrics (served at `GET /metrics` by `server`), in the OpenMetrics text format
//! (`prometheus-client`):
//! requests by method, matched route pattern and status, their latency, the database pools and
//! their gates (read at scrape time), and registry uploads.
//!
//! Labels are bounded: a route is the pattern it matched (`/api/v1/registries/{slug}/items`),
//! never the raw path, and `unmatched` otherwise; methods outside the usual few are `other`.

use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::error::AppError;

/// What Prometheus asks for first and parses natively.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Request latency, 1 ms to 10 s.
const REQUEST_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upload imports, 10 ms to 10 min (a file of a million rows takes minutes).
const IMPORT_BUCKETS: [f64; 12] = [
    0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0, 600.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ImportLabels {
    registry: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RegistryLabels {
    registry: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The metrics the server updates as it works; one set shared by every worker.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Histograms<RouteLabels>,
    imports: Family<ImportLabels, Counter>,
    import_durations: Histograms<RegistryLabels>,
}

/// How an upload ended, as `imports_total{outcome}` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new release.
    Published,
    /// A retry answered with an earlier upload's outcome (same Idempotency-Key).
    Replayed,
    /// The file (or the request about it) was refused: schema problems, too large, bad headers.
    Rejected,
    /// Another release came first (If-Match) or the same key is still running.
    Conflict,
    /// Not the file's fault: the database, a bug.
    Failed,
}

impl ImportOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Replayed => "replayed",
            Self::Rejected => "rejected",
            Self::Conflict => "conflict",
            Self::Failed => "failed",
        }
    }

    /// The outcome an upload that ended with `error` had.
    pub fn of_error(error: &AppError) -> Self {
        match error {
            AppError::PreconditionFailed(_) | AppError::Conflict(_) => Self::Conflict,
            e if e.status_code().is_client_error() => Self::Rejected,
            _ => Self::Failed,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by method, matched route pattern and status",
            requests.clone(),
        );
        let durations: Histograms<RouteLabels> =
            Family::new_with_constructor(|| Histogram::new(REQUEST_BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time until the response head (a streamed export goes on after it)",
            Unit::Seconds,
            durations.clone(),
        );
        let imports = Family::<ImportLabels, Counter>::default();
        registry.register(
            "imports",
            "Registry uploads, by registry and outcome (published, replayed, rejected, \
             conflict, failed)",
            imports.clone(),
        );
        let import_durations: Histograms<RegistryLabels> =
            Family::new_with_constructor(|| Histogram::new(IMPORT_BUCKETS));
        registry.register_with_unit(
            "import_duration",
            "Time an upload's import took, from its turn at the database to its recorded outcome \
             (replays excluded)",
            Unit::Seconds,
            import_durations.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
            imports,
            import_durations,
        }
    }

    fn request_finished(&self, method: &'static str, route: String, status: u16, took: Duration) {
        self.durations
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Counts an upload of `registry` (an existing registry's slug), and the time its import
    /// took when it ran one.
    pub fn import_finished(&self, registry: &str, outcome: ImportOutcome, took: Option<Duration>) {
        let registry = registry.to_owned();
        if let Some(took) = took {
            self.import_durations
                .get_or_create(&RegistryLabels {
                    registry: registry.clone(),
                })
                .observe(took.as_secs_f64());
        }
        self.imports
            .get_or_create(&ImportLabels {
                registry,
                outcome: outcome.as_str(),
            })
            .inc();
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        // Clients may send any token as a method; the label set must stay bounded.
        _ => "other",
    }
}

/// Middleware: counts every request and times it to its response head (off unless the app has
/// `Metrics`).
pub async fn record<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let Some(metrics) = req.app_data::<web::Data<Metrics>>().cloned() else {
        return next.call(req).await;
    };
    let started = Instant::now();
    let method = method_label(req.method());
    // The pattern comes from the app's route table, whatever the middleware inside does.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let result = next.call(req).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    metrics.request_finished(method, route, status.as_u16(), started.elapsed());
    result
}

/// A database's pool and gate as read at one scrape.
#[derive(Debug)]
pub struct PoolReading {
    /// `primary`, or `read` for the read replica.
    pub name: &'static str,
    pub max: u32,
    pub open: u32,
    pub idle: u32,
    pub gate_available: usize,
    pub gate_waiting: usize,
    pub gate_refused: u64,
}

/// The pool gauges, read from the pools when `/metrics` is asked.
#[derive(Debug)]
struct Pools(Vec<PoolReading>);

impl Pools {
    fn gauge(
        &self,
        encoder: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        value: impl Fn(&PoolReading) -> i64,
    ) -> std::fmt::Result {
        let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
        for r in &self.0 {
            let labels = [("pool", r.name)];
            ConstGauge::new(value(r)).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl Collector for Pools {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        self.gauge(
            &mut encoder,
            "db_pool_max_connections",
            "Most connections the pool opens",
            |r| i64::from(r.max),
        )?;
        let mut family = encoder.encode_descriptor(
            "db_pool_connections",
            "Open pooled connections, in use by a request or idle",
            None,
            MetricType::Gauge,
        )?;
        for r in &self.0 {
            let in_use = r.open.saturating_sub(r.idle);
            for (state, n) in [("in_use", in_use), ("idle", r.idle)] {
                let labels = [("pool", r.name), ("state", state)];
                ConstGauge::new(i64::from(n)).encode(family.encode_family(&labels)?)?;
            }
        }
        self.gauge(
            &mut encoder,
            "db_gate_permits_available",
            "Free turns at the pool (one per connection)",
            |r| r.gate_available as i64,
        )?;
        self.gauge(
            &mut encoder,
            "db_gate_waiting",
            "Requests queued for a turn at the pool",
            |r| r.gate_waiting as i64,
        )?;
        let mut family = encoder.encode_descriptor(
            "db_gate_at_capacity",
            "Requests answered 503 because no turn came within the pool timeout",
            None,
            MetricType::Counter,
        )?;
        for r in &self.0 {
            let labels = [("pool", r.name)];
            ConstCounter::new(r.gate_refused).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl Metrics {
    /// Every metric, and the pools as read now, as OpenMetrics text.
    pub fn encode(&self, pools: Vec<PoolReading>) -> Result<String, AppError> {
        let mut scrape_time = Registry::default();
        scrape_time.register_collector(Box::new(Pools(pools)));
        let mut body = String::new();
        encode_registry(&mut body, &self.registry)
            .and_then(|()| encode_registry(&mut body, &scrape_time))
            .and_then(|()| encode_eof(&mut body))
            .map_err(|e| AppError::Internal(format!("encoding metrics: {e}")))?;
        Ok(body)
    }
}
