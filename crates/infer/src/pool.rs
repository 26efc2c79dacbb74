//! A fixed set of engine sessions shared by callers on any thread. A caller takes an idle
//! session, runs it, and puts it back; callers beyond the pool size wait (bounded concurrency, so
//! memory stays flat under load).

use std::sync::{Condvar, Mutex, PoisonError};

use crate::engine::EngineSession;

pub(crate) struct Pool {
    idle: Mutex<Vec<Box<dyn EngineSession>>>,
    ready: Condvar,
}

impl Pool {
    pub fn new(sessions: Vec<Box<dyn EngineSession>>) -> Self {
        Self {
            idle: Mutex::new(sessions),
            ready: Condvar::new(),
        }
    }

    /// Runs `f` with an idle session, waiting for one if all are busy.
    pub fn with_session<T>(&self, f: impl FnOnce(&mut dyn EngineSession) -> T) -> T {
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
        struct Return<'a>(&'a Pool, Option<Box<dyn EngineSession>>);
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
        f(guard.1.as_mut().expect("taken only in drop").as_mut())
    }
}
