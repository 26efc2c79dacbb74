//! Which engine, device and precision run the models: `auto` resolved against what the CPU
//! computes natively and what is installed, in one pure function the tests drive with every
//! combination (so the fallback is proven without the hardware).

use cutout_core::{Device, EngineChoice, EngineKind, Precision, PrecisionChoice};

use crate::InferError;

/// What the CPU computes natively, as far as engine choice is concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuFeatures {
    /// bf16 dot products in hardware: AMX (`amx_bf16`) or AVX-512 BF16 (`avx512_bf16`). Without
    /// them bf16 is emulated and slower than f32, so `auto` never picks it.
    pub native_bf16: bool,
}

impl CpuFeatures {
    /// This machine's, from `/proc/cpuinfo` (none elsewhere, e.g. on macOS).
    pub fn detect() -> Self {
        std::fs::read_to_string("/proc/cpuinfo")
            .map(|text| Self::from_cpuinfo(&text))
            .unwrap_or_default()
    }

    /// Parses the first `flags` line of a `/proc/cpuinfo` text.
    pub fn from_cpuinfo(text: &str) -> Self {
        let flags = text
            .lines()
            .find_map(|l| {
                let (key, value) = l.split_once(':')?;
                (key.trim() == "flags").then_some(value)
            })
            .unwrap_or("");
        let has = |f: &str| flags.split_whitespace().any(|x| x == f);
        Self {
            native_bf16: has("amx_bf16") || has("avx512_bf16"),
        }
    }
}

/// The resolved choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnginePlan {
    pub engine: EngineKind,
    pub device: Device,
    /// What is asked of the engine; the engine reports what it really computes in.
    pub precision: Precision,
    /// Whether `precision` was set in the configuration. When it was not, bf16 is only used for
    /// models whose bf16 quality was verified (`bf16 = true` in the manifest): see
    /// [`EnginePlan::precision_for`].
    pub forced: bool,
}

impl EnginePlan {
    /// The precision to ask for when running a model: `auto` keeps a model in f32 unless its
    /// bf16 results passed the eval gate (within 0.002 IoU/MAE and 0.003 boundary F of f32).
    pub fn precision_for(&self, bf16_verified: bool) -> Precision {
        if self.precision == Precision::Bf16 && !self.forced && !bf16_verified {
            Precision::F32
        } else {
            self.precision
        }
    }
}

/// Resolves the configured engine and precision for this CPU, given whether OpenVINO's
/// libraries are installed. Forced choices that cannot work are errors, never silent swaps.
pub fn resolve(
    engine: EngineChoice,
    precision: PrecisionChoice,
    device: Device,
    cpu: CpuFeatures,
    openvino_installed: bool,
) -> Result<EnginePlan, InferError> {
    let forced = precision != PrecisionChoice::Auto;
    let plan = |engine, precision| {
        Ok(EnginePlan {
            engine,
            device,
            precision,
            forced,
        })
    };
    if device == Device::Cuda {
        return match (engine, precision) {
            (EngineChoice::OpenVino, _) => Err(InferError::Config(
                "device = \"cuda\" runs on ONNX Runtime; set engine = \"auto\" or \"onnxruntime\""
                    .into(),
            )),
            (_, PrecisionChoice::Bf16) => Err(InferError::Config(
                "precision = \"bf16\" is for CPUs (OpenVINO); CUDA runs f32".into(),
            )),
            _ => plan(EngineKind::OnnxRuntime, Precision::F32),
        };
    }
    let native = if cpu.native_bf16 {
        Precision::Bf16
    } else {
        Precision::F32
    };
    match (engine, precision) {
        (EngineChoice::OnnxRuntime, PrecisionChoice::Bf16) => Err(InferError::Config(
            "ONNX Runtime computes f32 on CPUs; bf16 needs engine = \"openvino\" (or \"auto\")"
                .into(),
        )),
        (EngineChoice::OnnxRuntime, _) => plan(EngineKind::OnnxRuntime, Precision::F32),
        (EngineChoice::OpenVino, _) | (EngineChoice::Auto, PrecisionChoice::Bf16)
            if !openvino_installed =>
        {
            Err(InferError::EngineMissing(EngineKind::OpenVino))
        }
        (EngineChoice::OpenVino, PrecisionChoice::Auto) => plan(EngineKind::OpenVino, native),
        (EngineChoice::OpenVino | EngineChoice::Auto, PrecisionChoice::Bf16) => {
            plan(EngineKind::OpenVino, Precision::Bf16)
        }
        (EngineChoice::OpenVino, PrecisionChoice::F32) => {
            plan(EngineKind::OpenVino, Precision::F32)
        }
        // Auto: OpenVINO only where it pays (native bf16); f32 OpenVINO measured no faster than
        // ONNX Runtime, so ONNX Runtime stays the default elsewhere.
        (EngineChoice::Auto, PrecisionChoice::Auto) if cpu.native_bf16 && openvino_installed => {
            plan(EngineKind::OpenVino, Precision::Bf16)
        }
        (EngineChoice::Auto, _) => plan(EngineKind::OnnxRuntime, Precision::F32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EngineChoice as E;
    use PrecisionChoice as P;

    const BF16: CpuFeatures = CpuFeatures { native_bf16: true };
    const PLAIN: CpuFeatures = CpuFeatures { native_bf16: false };

    fn cpu(
        e: EngineChoice,
        p: PrecisionChoice,
        c: CpuFeatures,
        ov: bool,
    ) -> (EngineKind, Precision) {
        let plan = resolve(e, p, Device::Cpu, c, ov).unwrap();
        (plan.engine, plan.precision)
    }

    #[test]
    fn auto_is_openvino_bf16_only_on_native_bf16_cpus_with_openvino_installed() {
        use EngineKind::*;
        assert_eq!(
            cpu(E::Auto, P::Auto, BF16, true),
            (OpenVino, Precision::Bf16)
        );
        // Detected fallback: no native bf16, or no OpenVINO → ONNX Runtime f32.
        assert_eq!(
            cpu(E::Auto, P::Auto, PLAIN, true),
            (OnnxRuntime, Precision::F32)
        );
        assert_eq!(
            cpu(E::Auto, P::Auto, BF16, false),
            (OnnxRuntime, Precision::F32)
        );
        assert_eq!(
            cpu(E::Auto, P::F32, BF16, true),
            (OnnxRuntime, Precision::F32)
        );
    }

    #[test]
    fn forced_choices_are_kept_or_refused_never_swapped() {
        use EngineKind::*;
        assert_eq!(
            cpu(E::OnnxRuntime, P::Auto, BF16, true),
            (OnnxRuntime, Precision::F32)
        );
        assert_eq!(
            cpu(E::OpenVino, P::Auto, PLAIN, true),
            (OpenVino, Precision::F32)
        );
        assert_eq!(
            cpu(E::OpenVino, P::Auto, BF16, true),
            (OpenVino, Precision::Bf16)
        );
        assert_eq!(
            cpu(E::OpenVino, P::F32, BF16, true),
            (OpenVino, Precision::F32)
        );
        assert_eq!(
            cpu(E::Auto, P::Bf16, PLAIN, true),
            (OpenVino, Precision::Bf16)
        );
        let refused = |e, p, ov| resolve(e, p, Device::Cpu, BF16, ov).unwrap_err().code();
        assert_eq!(refused(E::OnnxRuntime, P::Bf16, true), "engine_config");
        assert_eq!(refused(E::OpenVino, P::Auto, false), "engine_not_installed");
        assert_eq!(refused(E::Auto, P::Bf16, false), "engine_not_installed");
    }

    #[test]
    fn auto_keeps_models_with_unverified_bf16_in_f32_and_forced_bf16_applies_to_all() {
        let auto = resolve(E::Auto, P::Auto, Device::Cpu, BF16, true).unwrap();
        assert_eq!(auto.precision_for(true), Precision::Bf16);
        assert_eq!(auto.precision_for(false), Precision::F32);
        let forced = resolve(E::Auto, P::Bf16, Device::Cpu, BF16, true).unwrap();
        assert_eq!(forced.precision_for(false), Precision::Bf16);
        let f32 = resolve(E::OpenVino, P::F32, Device::Cpu, BF16, true).unwrap();
        assert_eq!(f32.precision_for(true), Precision::F32);
    }

    #[test]
    fn cuda_runs_onnx_runtime_f32() {
        let plan = resolve(E::Auto, P::Auto, Device::Cuda, BF16, true).unwrap();
        assert_eq!(
            (plan.engine, plan.precision),
            (EngineKind::OnnxRuntime, Precision::F32)
        );
        for (e, p) in [(E::OpenVino, P::Auto), (E::Auto, P::Bf16)] {
            assert!(resolve(e, p, Device::Cuda, BF16, true).is_err());
        }
    }

    #[test]
    fn cpuinfo_flags_are_read_from_the_flags_line_only() {
        let amd = "model name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512vl\n";
        assert!(CpuFeatures::from_cpuinfo(amd).native_bf16);
        let intel = "flags\t\t: fpu avx2 amx_bf16 amx_tile\nbugs\t\t: spectre\n";
        assert!(CpuFeatures::from_cpuinfo(intel).native_bf16);
        let zen3 = "flags\t\t: fpu avx2 fma\nbugs\t\t: avx512_bf16_is_not_a_flag_here\n";
        assert!(!CpuFeatures::from_cpuinfo(zen3).native_bf16);
        // A flag that merely starts with the name does not count.
        assert!(!CpuFeatures::from_cpuinfo("flags : avx512_bf16x\n").native_bf16);
        assert!(!CpuFeatures::from_cpuinfo("").native_bf16);
    }
}
