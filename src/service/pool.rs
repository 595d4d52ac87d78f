//! Bounded rendering: CPU-heavy work runs on tokio's blocking threads, at most `workers` at a
//! time, with at most `queue` more waiting; past that the server answers 503 at once instead of
//! letting latency grow without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Semaphore;

/// Why a job did not run to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// `workers + queue` jobs are running or waiting: refused at once.
    #[error("the render queue is full")]
    Full,
    /// The job's thread failed (it panicked).
    #[error("a render job failed: {0}")]
    Failed(String),
}

/// Admission control for rendering and encoding.
#[derive(Debug)]
pub struct RenderPool {
    permits: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
    limit: usize,
    /// Jobs run to the end since start-up (a metric: with the cache on, identical concurrent
    /// requests must add one, not one each).
    finished: AtomicU64,
}

/// One admitted job; leaving the pool's count when dropped.
struct Admitted(Arc<AtomicUsize>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl RenderPool {
    /// A pool running `workers` jobs at once with `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            permits: Arc::new(Semaphore::new(workers)),
            admitted: Arc::new(AtomicUsize::new(0)),
            limit: workers + queue,
            finished: AtomicU64::new(0),
        }
    }

    /// Runs `f` on a blocking thread when a worker is free, or refuses at once with
    /// [`PoolError::Full`] when the queue is full.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, PoolError> {
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= self.limit {
            self.admitted.fetch_sub(1, Ordering::SeqCst);
            return Err(PoolError::Full);
        }
        let admitted = Admitted(Arc::clone(&self.admitted));
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| PoolError::Failed(format!("render pool: {e}")))?;
        // The slot and the permit travel with the job: a client that goes away while its tile
        // renders does not free a place the render still occupies.
        let out = tokio::task::spawn_blocking(move || {
            let out = f();
            drop((permit, admitted));
            out
        })
        .await
        .map_err(|e| PoolError::Failed(format!("render task: {e}")))?;
        self.finished.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// Jobs running or waiting now.
    pub fn load(&self) -> usize {
        self.admitted.load(Ordering::SeqCst)
    }

    /// Jobs run to the end since start-up.
    pub fn finished(&self) -> u64 {
        self.finished.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::mpsc::channel;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn workers_plus_queue_jobs_are_taken_and_one_more_is_refused() {
        let (workers, queue) = (2, 3);
        let pool = Arc::new(RenderPool::new(workers, queue));
        // Every job waits until its gate is dropped, so that the pool fills and stays full.
        let (mut gates, mut jobs) = (Vec::new(), Vec::new());
        for n in 1..=workers + queue {
            let (gate, wait) = channel::<()>();
            gates.push(gate);
            let job_pool = Arc::clone(&pool);
            jobs.push(tokio::spawn(async move { job_pool.run(move || wait.recv().is_err()).await }));
            while pool.load() < n {
                tokio::task::yield_now().await;
            }
        }
        assert!(matches!(pool.run(|| false).await, Err(PoolError::Full)), "one past workers + queue");
        drop(gates);
        for job in jobs {
            assert!(matches!(job.await, Ok(Ok(true))), "every admitted job runs");
        }
        assert_eq!(pool.load(), 0);
        assert!(pool.run(|| true).await.is_ok(), "room again");
    }
}
