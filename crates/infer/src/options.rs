//! How inference uses the machine: engine, device, sessions and threads, with the policy that
//! turns "auto" (0) into numbers in one place for the server, the CLI and the benches.

use cutout_core::{Device, EngineChoice, PrecisionChoice};

/// Inference settings (the `[inference]` section of the server's config).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InferenceOptions {
    /// Default: auto (OpenVINO bf16 on native-bf16 CPUs where installed, else ONNX Runtime).
    pub engine: EngineChoice,
    /// Default: auto (bf16 with OpenVINO on native-bf16 CPUs, else f32).
    pub precision: PrecisionChoice,
    /// Default: the CPU.
    pub device: Device,
    /// Inferences at once, per model (sessions). 0: as many as the threads leave cores for.
    pub sessions: usize,
    /// Threads inside one inference. 0: cores / sessions when sessions are set, else up to 4.
    pub threads: usize,
    /// Let idle inference threads spin-wait: lowest latency when inference has the machine to
    /// itself (the CLI), wasted cores when other work shares them (the server). Default: off.
    pub spin: bool,
}

/// Sessions and threads, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    pub sessions: usize,
    pub intra_threads: usize,
    pub spin: bool,
}

impl InferenceOptions {
    /// `sessions` inferences at once sharing every core, threads spinning: for a process that
    /// does nothing else (`cutout remove`, the benches, the model tests).
    pub fn exclusive(sessions: usize) -> Self {
        Self {
            sessions: sessions.max(1),
            spin: true,
            ..Self::default()
        }
    }

    /// The same options on another engine and precision.
    pub fn on(self, engine: EngineChoice, precision: PrecisionChoice) -> Self {
        Self {
            engine,
            precision,
            ..self
        }
    }

    /// The pool on a machine with `cores` cores. By default up to 4 threads per session and as
    /// many sessions as that fills the cores with: one fast inference beats two slow ones for
    /// latency, and on a small machine it also measured faster overall (the other workers
    /// decode, refine and encode while one job is in the model).
    pub fn pool(&self, cores: usize) -> PoolConfig {
        let cores = cores.max(1);
        if self.device == Device::Cuda {
            // On a GPU the CPU threads only feed it: several sessions of one thread keep it busy
            // while the others copy inputs and outputs.
            return PoolConfig {
                sessions: if self.sessions == 0 { 4 } else { self.sessions },
                intra_threads: self.threads.max(1),
                spin: self.spin,
            };
        }
        let threads = match (self.threads, self.sessions) {
            (0, 0) => cores.min(4),
            (0, s) => (cores / s).max(1),
            (t, _) => t,
        };
        let sessions = match self.sessions {
            0 => (cores / threads).max(1),
            s => s,
        };
        PoolConfig {
            sessions,
            intra_threads: threads,
            spin: self.spin,
        }
    }

    /// [`Self::pool`] for this machine.
    pub fn pool_here(&self) -> PoolConfig {
        self.pool(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_settings_fill_the_cores_with_sessions_of_up_to_four_threads() {
        let auto = InferenceOptions::default();
        assert_eq!((auto.pool(2).sessions, auto.pool(2).intra_threads), (1, 2));
        assert_eq!(
            (auto.pool(16).sessions, auto.pool(16).intra_threads),
            (4, 4)
        );
        let two = InferenceOptions::exclusive(2);
        assert_eq!((two.pool(8).sessions, two.pool(8).intra_threads), (2, 4));
        assert!(two.pool(8).spin && !auto.pool(8).spin);
        let fixed = InferenceOptions { threads: 3, ..auto };
        assert_eq!(
            (fixed.pool(12).sessions, fixed.pool(12).intra_threads),
            (4, 3)
        );
        assert_eq!(auto.pool(0).sessions, 1);
        let gpu = InferenceOptions {
            device: Device::Cuda,
            ..auto
        };
        assert_eq!((gpu.pool(2).sessions, gpu.pool(2).intra_threads), (4, 1));
    }
}
