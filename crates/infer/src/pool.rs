//! A fixed set of ONNX Runtime sessions shared by callers on any thread. A caller takes an idle
//! session, runs it, and puts it back; callers beyond the pool size wait (bounded concurrency, so
//! memory stays flat under load).

use std::sync::{Condvar, Mutex, PoisonError};

use ort::session::Session;

/// How many sessions to keep and how many threads each may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Concurrent inferences. Default: 1.
    pub sessions: usize,
    /// Threads inside each inference. Default: available cores divided by `sessions`.
    pub intra_threads: usize,
    /// Let idle intra-op threads spin (lowest latency when inference has the machine to itself,
    /// as in the CLI; wasteful when other work shares the cores, as in the server).
    pub spin: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self::for_sessions(1)
    }
}

impl PoolConfig {
    /// Splits the machine's cores evenly between `sessions` sessions.
    pub fn for_sessions(sessions: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let sessions = sessions.max(1);
        Self {
            sessions,
            intra_threads: (cores / sessions).max(1),
            spin: true,
        }
    }
}

pub(crate) struct Pool {
    idle: Mutex<Vec<Session>>,
    ready: Condvar,
}

impl Pool {
    pub fn new(sessions: Vec<Session>) -> Self {
        Self {
            idle: Mutex::new(sessions),
            ready: Condvar::new(),
        }
    }

    /// Runs `f` with an idle session, waiting for one if all are busy.
    pub fn with_session<T>(&self, f: impl FnOnce(&mut Session) -> T) -> T {
        let session = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if let Some(s) = idle.pop() {
                    break s;
                }
                idle = self
                    .ready
                    .wait(idle)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        // Put the session back even if `f` panics, so one bad input cannot shrink the pool.
        struct Return<'a>(&'a Pool, Option<Session>);
        impl Drop for Return<'_> {
            fn drop(&mut self) {
                if let Some(s) = self.1.take() {
                    self.0
                        .idle
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(s);
                    self.0.ready.notify_one();
                }
            }
        }
        let mut guard = Return(self, Some(session));
        f(guard.1.as_mut().expect("taken only in drop"))
    }
}
