//! Admission of image work against a memory budget. Each image in flight holds memory in
//! proportion to its pixels (decoded RGBA, mask, refinement planes, the encoded copy: tens of
//! bytes a pixel), so the number of jobs alone does not bound memory: eight 50 MP uploads at
//! once would. Work waits for its megapixels, read from the header, before anything is decoded.

use std::sync::Arc;

use cutout_core::DecodeLimits;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Megapixels of images being decoded or processed at once (`limits.max_megapixels_in_flight`).
pub struct PixelBudget {
    permits: Arc<Semaphore>,
    total: u32,
}

/// Held while an image is processed; its megapixels return to the budget when dropped.
pub struct Admitted(#[allow(dead_code)] OwnedSemaphorePermit);

impl PixelBudget {
    pub fn new(megapixels: f64) -> PixelBudget {
        let total = megapixels.ceil().clamp(1.0, f64::from(u32::MAX >> 4)) as u32;
        PixelBudget {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until the images' megapixels fit in the budget. An image whose header cannot be
    /// read is charged the largest size allowed (the decoder will refuse it anyway, but it must
    /// not slip past the budget), and one larger than the whole budget runs alone.
    pub async fn admit(&self, images: &[&[u8]], limits: &DecodeLimits) -> Admitted {
        let pixels: u64 = images
            .iter()
            .map(
                |bytes| match cutout_core::decode::probe_with(bytes, limits) {
                    Ok((_, w, h)) => u64::from(w) * u64::from(h),
                    Err(_) => limits.max_pixels,
                },
            )
            .sum();
        let megapixels = pixels.div_ceil(1_000_000).clamp(1, u64::from(self.total)) as u32;
        let permit = Arc::clone(&self.permits)
            .acquire_many_owned(megapixels)
            .await
            .expect("the budget's semaphore is never closed");
        Admitted(permit)
    }

    /// Megapixels free now (for tests and metrics).
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        // A header is all the budget reads: an all-black image compresses to almost nothing.
        let img = image::GrayImage::new(w, h);
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[tokio::test]
    async fn large_images_wait_for_each_other() {
        let budget = PixelBudget::new(10.0);
        let limits = DecodeLimits::default();
        let six = png(3000, 2000);
        let first = budget.admit(&[&six], &limits).await;
        assert_eq!(budget.available(), 4);
        // A second 6 MP image does not fit until the first is done.
        let images = [six.as_slice()];
        let second = budget.admit(&images, &limits);
        tokio::pin!(second);
        assert!(futures_util::poll!(second.as_mut()).is_pending());
        drop(first);
        let _second = second.await;
        assert_eq!(budget.available(), 4);
    }

    #[tokio::test]
    async fn unreadable_headers_pay_the_maximum_and_huge_images_run_alone() {
        let budget = PixelBudget::new(10.0);
        let limits = DecodeLimits {
            max_pixels: 8_000_000,
            ..Default::default()
        };
        let held = budget.admit(&[b"not an image"], &limits).await;
        assert_eq!(budget.available(), 2);
        drop(held);
        let huge = png(5000, 4000);
        let held = budget.admit(&[&huge], &limits).await;
        assert_eq!(budget.available(), 0, "20 MP takes the whole 10 MP budget");
        drop(held);
        let small = png(100, 100);
        let _a = budget.admit(&[&small, &small], &limits).await;
        assert_eq!(
            budget.available(),
            9,
            "anything costs at least one megapixel"
        );
    }
}
