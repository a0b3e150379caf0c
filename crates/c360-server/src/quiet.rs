//! The Delta kernel's own error logs, left out where the server reports the failure itself.
//!
//! When a table cannot be opened, the Delta kernel logs the failure at ERROR from three places,
//! each with a backtrace when `RUST_BACKTRACE` is set (18 frames apiece on a garbage commit).
//! The server already says which table failed and why — one WARN line per reload, the banner,
//! `/health`, `/api/pipeline` — so around its own reads of the lake ([`kernel_quiet`]) it drops
//! the kernel's ERROR and WARN events and passes everything else to the subscriber in place.

use std::future::Future;

use tracing::instrument::{WithDispatch, WithSubscriber};
use tracing::subscriber::Interest;
use tracing::{span, Dispatch, Event, Level, Metadata, Subscriber};

/// Targets whose ERROR and WARN events are dropped.
const KERNEL: &str = "buoyant_kernel";

/// `future`, polled with the current subscriber minus the Delta kernel's errors and warnings.
pub fn kernel_quiet<F: Future>(future: F) -> WithDispatch<F> {
    let inner = tracing::dispatcher::get_default(|d| d.clone());
    future.with_subscriber(Dispatch::new(Quiet { inner }))
}

/// Forwards to `inner` every span and event but the kernel's errors and warnings.
struct Quiet {
    inner: Dispatch,
}

fn dropped(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with(KERNEL) && *metadata.level() <= Level::WARN
}

impl Subscriber for Quiet {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if dropped(metadata) {
            Interest::never()
        } else {
            self.inner.register_callsite(metadata)
        }
    }
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !dropped(metadata) && self.inner.enabled(metadata)
    }
    fn new_span(&self, span: &span::Attributes<'_>) -> span::Id {
        self.inner.new_span(span)
    }
    fn record(&self, span: &span::Id, values: &span::Record<'_>) {
        self.inner.record(span, values)
    }
    fn record_follows_from(&self, span: &span::Id, follows: &span::Id) {
        self.inner.record_follows_from(span, follows)
    }
    fn event(&self, event: &Event<'_>) {
        if !dropped(event.metadata()) {
            self.inner.event(event)
        }
    }
    fn enter(&self, span: &span::Id) {
        self.inner.enter(span)
    }
    fn exit(&self, span: &span::Id) {
        self.inner.exit(span)
    }
    fn clone_span(&self, id: &span::Id) -> span::Id {
        self.inner.clone_span(id)
    }
    fn try_close(&self, id: span::Id) -> bool {
        self.inner.try_close(id)
    }
}
