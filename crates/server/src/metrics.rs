//! Prometheus metrics, one registry per application value (tests run many apps in one process, so
//! nothing here is global).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NameLabels {
    pub name: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_seconds: HistogramFamily<RouteLabels>,
    pub queue_depth: Gauge,
    pub jobs_by_state: Family<NameLabels, Gauge>,
    pub jobs_finished: Family<NameLabels, Counter>,
    pub inference_seconds: HistogramFamily<NameLabels>,
    pub job_seconds: HistogramFamily<NameLabels>,
}

fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cutout");
        let m = Self {
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(latency),
            queue_depth: Gauge::default(),
            jobs_by_state: Family::default(),
            jobs_finished: Family::default(),
            inference_seconds: Family::new_with_constructor(latency),
            job_seconds: Family::new_with_constructor(latency),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            m.http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP latency by route",
            m.http_seconds.clone(),
        );
        registry.register(
            "queue_depth",
            "Jobs queued or running",
            m.queue_depth.clone(),
        );
        registry.register("jobs", "Jobs by state", m.jobs_by_state.clone());
        registry.register(
            "jobs_finished",
            "Jobs finished by outcome",
            m.jobs_finished.clone(),
        );
        registry.register(
            "inference_duration_seconds",
            "Segmentation time by model",
            m.inference_seconds.clone(),
        );
        registry.register(
            "job_duration_seconds",
            "Whole job time by kind",
            m.job_seconds.clone(),
        );
        Self { registry, ..m }
    }
}

impl Metrics {
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn observe(family: &HistogramFamily<NameLabels>, name: &str, secs: f64) {
        family
            .get_or_create(&NameLabels {
                name: name.to_owned(),
            })
            .observe(secs);
    }
}
