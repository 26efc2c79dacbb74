//! Comparing two 8-bit masks of the same size, as the model tests do against references.

/// How far apart two masks are: the mean absolute difference in levels of 255, and the share
/// of pixels that differ by more than `far` levels.
#[derive(Clone, Copy, Debug)]
pub struct MaskDiff {
    pub mean_abs: f64,
    pub far_share: f64,
}

/// Compares `a` with `b` (the same length).
pub fn diff(a: &[u8], b: &[u8], far: u8) -> MaskDiff {
    assert_eq!(a.len(), b.len(), "masks of different sizes");
    let n = a.len().max(1) as f64;
    let (mut sum, mut far_count) = (0u64, 0u64);
    for (&x, &y) in a.iter().zip(b) {
        let d = x.abs_diff(y);
        sum += u64::from(d);
        far_count += u64::from(d > far);
    }
    MaskDiff {
        mean_abs: sum as f64 / n,
        far_share: far_count as f64 / n,
    }
}
