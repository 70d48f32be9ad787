//! A tower layer that makes the emulator misbehave on purpose: 429 with `Retry-After`, 5xx,
//! latency, dropped connections. By rate (a random share of requests) or by script (exactly these,
//! in order, for the next requests), so clients can be tested for resilience.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use tower::{Layer, Service};

/// What to do with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Serve it normally.
    Pass,
    /// Answer 429 with `Retry-After: <seconds>` and Box's rate-limit body.
    TooManyRequests {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// Answer with this status (500, 502, 503, …) and an error body.
    Status(u16),
    /// Wait, then serve normally.
    Latency(Duration),
    /// Close the connection without answering.
    Drop,
}

impl std::str::FromStr for Fault {
    type Err = String;

    /// `429`, `429:3` (Retry-After 3 s), `500`, `503`, `drop`, `latency:250ms`, `latency:2s`, `pass`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "{text:?} is not a fault: use 429, 429:SECS, 500, 502, 503, drop, latency:250ms or pass"
            )
        };
        match text.trim() {
            "pass" => Ok(Self::Pass),
            "drop" => Ok(Self::Drop),
            "429" => Ok(Self::TooManyRequests {
                retry_after_secs: 1,
            }),
            other => {
                if let Some(secs) = other.strip_prefix("429:") {
                    return secs
                        .parse()
                        .map(|retry_after_secs| Self::TooManyRequests { retry_after_secs })
                        .map_err(|_| bad());
                }
                if let Some(delay) = other.strip_prefix("latency:") {
                    let (number, unit) = delay.split_at(
                        delay
                            .find(|c: char| !c.is_ascii_digit())
                            .unwrap_or(delay.len()),
                    );
                    let n: u64 = number.parse().map_err(|_| bad())?;
                    return match unit {
                        "ms" => Ok(Self::Latency(Duration::from_millis(n))),
                        "s" | "" => Ok(Self::Latency(Duration::from_secs(n))),
                        _ => Err(bad()),
                    };
                }
                match other.parse::<u16>() {
                    Ok(code) if (500..600).contains(&code) => Ok(Self::Status(code)),
                    _ => Err(bad()),
                }
            }
        }
    }
}

#[derive(Default)]
struct Plan {
    script: VecDeque<Fault>,
    rate: f64,
    menu: Vec<Fault>,
}

/// The controls of fault injection, shared by the layer and the emulator's handle.
#[derive(Clone, Default)]
pub struct Faults {
    plan: Arc<Mutex<Plan>>,
    /// Whether anything is scripted or a rate is set: when not, requests pass without a lock.
    armed: Arc<AtomicBool>,
    injected: Arc<AtomicU64>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plan = self.plan();
        f.debug_struct("Faults")
            .field("scripted", &plan.script.len())
            .field("rate", &plan.rate)
            .field("menu", &plan.menu)
            .finish()
    }
}

impl Faults {
    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next requests get exactly these faults, in order (use [`Fault::Pass`] to let one through).
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        let mut plan = self.plan();
        plan.script.extend(faults);
        self.rearm(&plan);
    }

    fn rearm(&self, plan: &Plan) {
        let armed = !plan.script.is_empty() || (plan.rate > 0.0 && !plan.menu.is_empty());
        self.armed.store(armed, Ordering::Release);
    }

    /// A share `rate` (0 to 1) of requests gets a fault picked at random from `menu`.
    pub fn set_rate(&self, rate: f64, menu: Vec<Fault>) {
        let mut plan = self.plan();
        plan.rate = rate.clamp(0.0, 1.0);
        plan.menu = menu;
        self.rearm(&plan);
    }

    /// No more faults.
    pub fn clear(&self) {
        let mut plan = self.plan();
        *plan = Plan::default();
        self.rearm(&plan);
    }

    /// How many scripted faults are still waiting.
    pub fn scripted(&self) -> usize {
        self.plan().script.len()
    }

    /// How many faults (other than `Pass`) were injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    fn next(&self) -> Fault {
        if !self.armed.load(Ordering::Acquire) {
            return Fault::Pass;
        }
        let mut plan = self.plan();
        if let Some(fault) = plan.script.pop_front() {
            self.rearm(&plan);
            return fault;
        }
        if plan.rate > 0.0 && !plan.menu.is_empty() {
            let [a, b, c, d, e, f, g, h] = crate::tokens::random_bytes::<8>();
            let draw = u64::from_le_bytes([a, b, c, d, e, f, g, h]);
            let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
            if unit < plan.rate {
                let pick = (draw % plan.menu.len() as u64) as usize;
                return plan.menu[pick].clone();
            }
        }
        Fault::Pass
    }
}

/// The connection is to be closed without an answer.
#[derive(Debug, thiserror::Error)]
#[error("fault injection: connection dropped")]
pub struct DroppedConnection;

/// The layer.
#[derive(Clone)]
pub struct FaultLayer(pub(crate) Faults);

impl<S> Layer<S> for FaultLayer {
    type Service = FaultService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FaultService {
            inner,
            faults: self.0.clone(),
        }
    }
}

/// The service the layer wraps around the router.
#[derive(Clone)]
pub struct FaultService<S> {
    inner: S,
    faults: Faults,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

mod fault_future {
    // pin-project-lite cannot take doc comments on fields: the fields are documented here. `inner`
    // is the router's answer; `fault` the fault's.
    #![allow(missing_docs)]
    use super::*;

    pin_project_lite::pin_project! {
        /// A request that passes straight through (no allocation), or one with a fault.
        #[project = FaultFutureProjection]
        pub enum FaultFuture<F> {
            /// Served normally.
            Pass { #[pin] inner: F },
            /// A fault: delayed, answered in the router's place, or dropped.
            Fault { #[pin] fault: BoxFuture<Result<Response<Body>, DroppedConnection>> },
        }
    }
}
pub use fault_future::FaultFuture;
use fault_future::FaultFutureProjection;

impl<F> Future for FaultFuture<F>
where
    F: Future<Output = Result<Response<Body>, std::convert::Infallible>>,
{
    type Output = Result<Response<Body>, DroppedConnection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            FaultFutureProjection::Pass { inner } => inner
                .poll(cx)
                .map(|served| Ok(served.unwrap_or_else(|never| match never {}))),
            FaultFutureProjection::Fault { fault } => fault.poll(cx),
        }
    }
}

impl<S, B> Service<Request<B>> for FaultService<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = DroppedConnection;
    type Future = FaultFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self.inner.poll_ready(cx) {
            Poll::Ready(_) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The control API is never faulted: a test scripting faults must still reach it.
        let fault = if crate::control::is_control(request.uri().path()) {
            Fault::Pass
        } else {
            self.faults.next()
        };
        if fault == Fault::Pass {
            return FaultFuture::Pass {
                inner: self.inner.call(request),
            };
        }
        self.faults.injected.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(?fault, path = request.uri().path(), "injecting a fault");
        // Take the service that was polled ready; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let fault = Box::pin(async move {
            match fault {
                Fault::Pass => Ok(inner
                    .call(request)
                    .await
                    .unwrap_or_else(|never| match never {})),
                Fault::Latency(delay) => {
                    tokio::time::sleep(delay).await;
                    Ok(inner
                        .call(request)
                        .await
                        .unwrap_or_else(|never| match never {}))
                }
                Fault::TooManyRequests { retry_after_secs } => Ok(error_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_exceeded",
                    "Request rate limit exceeded, please try again later",
                    Some(retry_after_secs),
                )),
                Fault::Status(code) => {
                    let status =
                        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    Ok(error_response(
                        status,
                        "internal_server_error",
                        "Internal Server Error",
                        None,
                    ))
                }
                Fault::Drop => Err(DroppedConnection),
            }
        });
        FaultFuture::Fault { fault }
    }
}

fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    retry_after: Option<u64>,
) -> Response<Body> {
    let body = serde_json::json!({"type": "error", "status": status.as_u16(), "code": code, "message": message});
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(secs) = retry_after
        && let Ok(value) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_from_their_names() {
        assert_eq!(
            "429".parse(),
            Ok(Fault::TooManyRequests {
                retry_after_secs: 1
            })
        );
        assert_eq!(
            "429:7".parse(),
            Ok(Fault::TooManyRequests {
                retry_after_secs: 7
            })
        );
        assert_eq!("503".parse(), Ok(Fault::Status(503)));
        assert_eq!("drop".parse(), Ok(Fault::Drop));
        assert_eq!(
            "latency:250ms".parse(),
            Ok(Fault::Latency(Duration::from_millis(250)))
        );
        assert_eq!(
            "latency:2s".parse(),
            Ok(Fault::Latency(Duration::from_secs(2)))
        );
        assert!("404".parse::<Fault>().is_err());
        assert!("latency:fast".parse::<Fault>().is_err());
    }

    #[test]
    fn the_script_goes_first_then_the_rate() {
        let faults = Faults::default();
        faults.script([Fault::Status(500), Fault::Drop]);
        faults.set_rate(1.0, vec![Fault::Status(503)]);
        assert_eq!(faults.next(), Fault::Status(500));
        assert_eq!(faults.next(), Fault::Drop);
        assert_eq!(faults.next(), Fault::Status(503));
        faults.clear();
        assert_eq!(faults.next(), Fault::Pass);
    }
}
