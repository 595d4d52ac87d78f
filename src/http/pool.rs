//! Bounded rendering: CPU-heavy work runs on tokio's blocking threads, at most `workers` at a
//! time, with at most `queue` more waiting; past that the server answers 503 at once instead of
//! letting latency grow without bound.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use super::ApiError;

/// Admission control for rendering and encoding.
#[derive(Debug)]
pub struct RenderPool {
    permits: Semaphore,
    admitted: AtomicUsize,
    limit: usize,
}

struct Admitted<'a>(&'a AtomicUsize);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl RenderPool {
    /// A pool running `workers` jobs at once with `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self { permits: Semaphore::new(workers), admitted: AtomicUsize::new(0), limit: workers + queue }
    }

    /// Runs `f` on a blocking thread when a worker is free, or refuses at once with
    /// [`ApiError::Overloaded`] when the queue is full.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= self.limit {
            self.admitted.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::Overloaded);
        }
        let _admitted = Admitted(&self.admitted);
        let _permit = self.permits.acquire().await.map_err(|e| ApiError::Internal(format!("render pool: {e}")))?;
        tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("render task: {e}")))
    }

    /// Jobs running or waiting now.
    pub fn load(&self) -> usize {
        self.admitted.load(Ordering::SeqCst)
    }
}
