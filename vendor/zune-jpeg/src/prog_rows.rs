//! (patched for Cutout) The last stage of progressive decoding on two threads.
//!
//! Once every scan is in, each MCU row is inverse-transformed (IDCT) and then up-sampled and
//! colour-converted into the output. The published crate does both on one thread, row after
//! row. Here a helper thread transforms the next batch of rows while the calling thread
//! converts the current one: the two halves cost about the same on a large photo, so the stage
//! takes about half as long. The arithmetic is untouched (same functions, same order per row),
//! so the output is byte-identical; errors come out in the order the one-thread loop would
//! raise them.

use alloc::vec;
use alloc::vec::Vec;
use std::sync::mpsc::sync_channel;

use zune_core::bytestream::ZByteReaderTrait;

use crate::decoder::{IDCTPtr, JpegDecoder, MAX_COMPONENTS};
use crate::errors::DecodeErrors;
use crate::mcu::DCT_BLOCK;

/// MCU rows per hand-over: enough that the two hand-overs per batch cost little next to the
/// work, few enough that the batch buffers stay in cache.
const BATCH: usize = 8;

/// Smaller images are not worth a thread.
pub(crate) const MIN_PIXELS: usize = 1 << 20;

/// What the IDCT of one component needs, copied out of the decoder so the helper thread does
/// not borrow it.
struct RowPlan {
    position: usize,
    quantization_table: [i32; 64],
    width_stride: usize,
    vertical_sample: usize
}

/// One row's transformed samples for every component (empty for components not output).
type RowBuffers = Vec<Vec<i16>>;

/// Dequantises and inverse-transforms MCU row `i` of every planned component into `out`,
/// exactly as the loop in `finish_progressive_decoding` does into `raw_coeff`.
fn idct_mcu_row(
    block: &[Vec<i16>; MAX_COMPONENTS], plan: &[RowPlan], i: usize, mcu_height: usize,
    idct: IDCTPtr, out: &mut RowBuffers
) -> Result<(), DecodeErrors> {
    let mut tmp = [0_i32; DCT_BLOCK];
    for c in plan {
        let step = block[c.position].len() / mcu_height;
        let slice = &block[c.position][i * step..i * step + step];
        let channel = &mut out[c.position];
        let mut idct_pos = 0;
        for k in 0..c.vertical_sample {
            for j in 0..c.width_stride / 8 {
                let start = j * 64 + k * 8 * c.width_stride;
                let Some(coefficients) = slice.get(start..start + 64) else {
                    return Err(DecodeErrors::FormatStatic(
                        "Invalid slice , would panic, invalid image"
                    ));
                };
                for ((x, out), qt) in coefficients.iter().zip(tmp.iter_mut()).zip(c.quantization_table.iter())
                {
                    *out = i32::from(*x) * qt;
                }
                idct(&mut tmp, &mut channel[idct_pos..], c.width_stride);
                idct_pos += 8;
            }
            idct_pos += 7 * c.width_stride;
        }
    }
    Ok(())
}

impl<T: ZByteReaderTrait> JpegDecoder<T> {
    /// `finish_progressive_decoding`'s row loop, with the IDCT of the next batch of rows on a
    /// helper thread. Expects `raw_coeff` sized and `needed` set, as that function leaves them.
    ///
    /// `Ok(false)` when the helper thread could not be started (a thread limit): nothing has
    /// been done, and the caller runs its one-thread loop instead.
    pub(crate) fn finish_rows_pipelined(
        &mut self, block: &[Vec<i16>; MAX_COMPONENTS], pixels: &mut [u8], mcu_height: usize,
        width: usize, padded_width: usize, upsampler_scratch_space: &mut [i16]
    ) -> Result<bool, DecodeErrors> {
        let plan: Vec<RowPlan> = self
            .components
            .iter()
            .enumerate()
            .filter(|(_, c)| c.needed)
            .map(|(position, c)| RowPlan {
                position,
                quantization_table: c.quantization_table,
                width_stride: c.width_stride,
                vertical_sample: c.vertical_sample
            })
            .collect();
        let lengths: Vec<usize> = self.components.iter().map(|c| c.raw_coeff.len()).collect();
        let new_batch = || -> Vec<RowBuffers> {
            (0..BATCH)
                .map(|_| lengths.iter().map(|&n| vec![0; n]).collect())
                .collect()
        };
        let idct = self.idct_func;
        let mut pixels_written = 0;

        std::thread::scope(|scope| {
            // (first row of the batch, its buffers) to the helper, and back with the row that
            // failed, if one did
            let (work_tx, work_rx) = sync_channel::<(usize, Vec<RowBuffers>)>(1);
            let (done_tx, done_rx) =
                sync_channel::<(Vec<RowBuffers>, Option<(usize, DecodeErrors)>)>(1);
            let plan = &plan;
            let helper = std::thread::Builder::new().name("zune-jpeg-idct".into());
            let spawned = helper.spawn_scoped(scope, move || {
                for (first, mut rows) in work_rx {
                    let mut failed = None;
                    for (r, buffers) in rows.iter_mut().enumerate() {
                        let i = first + r;
                        if i >= mcu_height {
                            break;
                        }
                        if let Err(e) = idct_mcu_row(block, plan, i, mcu_height, idct, buffers) {
                            failed = Some((i, e));
                            break;
                        }
                    }
                    if done_tx.send((rows, failed)).is_err() {
                        break; // the caller stopped early
                    }
                }
            });
            if spawned.is_err() {
                return Ok(false);
            }
            let lost = || DecodeErrors::FormatStatic("IDCT helper thread stopped");
            work_tx.send((0, new_batch())).map_err(|_| lost())?;
            let mut spare = Some(new_batch());
            let mut first = 0;
            while first < mcu_height {
                let (mut rows, mut failed) = done_rx.recv().map_err(|_| lost())?;
                let next = first + BATCH;
                if next < mcu_height {
                    let buffers = spare.take().ok_or_else(lost)?;
                    work_tx.send((next, buffers)).map_err(|_| lost())?;
                }
                for (r, buffers) in rows.iter_mut().enumerate() {
                    let i = first + r;
                    if i >= mcu_height {
                        break;
                    }
                    if failed.as_ref().is_some_and(|(row, _)| *row == i) {
                        // the one-thread loop would have failed here, before converting row i
                        return Err(failed.take().map(|(_, e)| e).ok_or_else(lost)?);
                    }
                    // The component takes this row's samples; the batch keeps the component's
                    // previous buffer (same length) for a later row.
                    for (component, buffer) in self.components.iter_mut().zip(buffers.iter_mut()) {
                        core::mem::swap(&mut component.raw_coeff, buffer);
                    }
                    self.post_process(
                        pixels,
                        i,
                        mcu_height,
                        width,
                        padded_width,
                        &mut pixels_written,
                        upsampler_scratch_space
                    )?;
                }
                spare = Some(rows);
                first = next;
            }
            Ok(true)
        })
    }
}
