//! Motion between two frames at the mask's resolution, so a mask from one frame can be moved onto
//! the next before the two are compared or blended. Block matching on a three-level pyramid:
//! a full search at quarter resolution finds large moves cheaply, then one-pixel refinements at
//! half and full resolution; each tile's vector is the median of its neighbours' to drop the odd
//! wrong match, and vectors are interpolated between tile centres so rotation and scaling come
//! out as smooth fields rather than blocks. Costs a few milliseconds a frame at 320x320.

pub use crate::plane::Plane;

/// Side of a matching tile at full resolution, in pixels.
pub const TILE: usize = 16;
/// Extra cost of a vector per pixel of length, in mean-luma units: among equally good matches
/// (a flat wall) the shortest wins, so featureless areas are taken as still.
const LENGTH_COST: f32 = 0.0015;

impl Plane {
    /// Mean absolute difference between the `size`-square at (x, y) here and the one at
    /// (x + dx, y + dy) in `other`, each pixel counted by its `weight` (a plane of this size).
    fn sad(
        &self,
        other: &Plane,
        weight: &Plane,
        (x, y): (isize, isize),
        size: isize,
        (dx, dy): (isize, isize),
    ) -> f32 {
        let (mut sum, mut total) = (0.0, 0.0);
        if self.holds(x, y, size) && other.holds(x + dx, y + dy, size) {
            // The common case, without clamping, so the rows vectorise.
            let n = size as usize;
            for j in 0..size {
                let row = (y + j) as usize * self.w + x as usize;
                let a = &self.px[row..][..n];
                let w = &weight.px[row..][..n];
                let b = &other.px[(y + j + dy) as usize * other.w + (x + dx) as usize..][..n];
                for ((p, q), w) in a.iter().zip(b).zip(w) {
                    sum += w * (p - q).abs();
                    total += w;
                }
            }
        } else {
            for j in 0..size {
                for i in 0..size {
                    let w = weight.at(x + i, y + j);
                    sum += w * (self.at(x + i, y + j) - other.at(x + i + dx, y + j + dy)).abs();
                    total += w;
                }
            }
        }
        sum / total.max(f32::EPSILON)
    }
}

/// One displacement per tile: the content at p in the current frame was at p + d in the other.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    tiles_x: usize,
    tiles_y: usize,
    d: Vec<(f32, f32)>,
}

impl Field {
    /// No motion anywhere.
    pub fn still(w: usize, h: usize) -> Field {
        let (tiles_x, tiles_y) = (w.div_ceil(TILE), h.div_ceil(TILE));
        Field {
            tiles_x,
            tiles_y,
            d: vec![(0.0, 0.0); tiles_x * tiles_y],
        }
    }

    /// The vector of the tile at (tx, ty).
    pub fn tile(&self, tx: usize, ty: usize) -> (f32, f32) {
        self.d[ty * self.tiles_x + tx]
    }

    /// Along one axis, the two tiles whose centres are nearest to pixel `p` and the weight of
    /// the second.
    fn axis(&self, p: usize, tiles: usize) -> (usize, usize, f32) {
        let f = ((p as f32 + 0.5) / TILE as f32 - 0.5).clamp(0.0, (tiles - 1) as f32);
        let i = f as usize;
        (i, (i + 1).min(tiles - 1), f - i as f32)
    }

    /// Bilinear interpolation between the vectors of four tiles.
    fn blend(&self, x0: usize, x1: usize, ax: f32, y0: usize, y1: usize, ay: f32) -> (f32, f32) {
        let lerp =
            |a: (f32, f32), b: (f32, f32), t: f32| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        let top = lerp(self.tile(x0, y0), self.tile(x1, y0), ax);
        let bottom = lerp(self.tile(x0, y1), self.tile(x1, y1), ax);
        lerp(top, bottom, ay)
    }
}

/// A plane at quarter, half and full size, made once per frame for [`estimate`].
pub struct Pyramid([Plane; 3]);

impl Pyramid {
    pub fn new(full: Plane) -> Pyramid {
        let half = full.half();
        Pyramid([half.half(), half, full])
    }

    pub fn full(&self) -> &Plane {
        &self.0[2]
    }
}

/// The motion from `cur` back to `other` (same size), searching up to `search` pixels, each
/// pixel of `cur` counted by `weight` when matching. The stabiliser weights the subject up: a
/// tile across the subject's edge then follows the subject, whose edge is what the masks show,
/// rather than the background sliding behind it.
pub fn estimate(cur: &Pyramid, other: &Pyramid, weight: &Pyramid, search: u32) -> Field {
    let (levels, others, weights) = (&cur.0, &other.0, &weight.0);
    let (cur, other, weight) = (cur.full(), other.full(), weight.full());
    assert_eq!((cur.w, cur.h), (other.w, other.h), "planes differ in size");
    let mut field = Field::still(cur.w, cur.h);
    if search == 0 {
        return field;
    }
    let coarse = (search as isize + 3) / 4;
    for ty in 0..field.tiles_y {
        for tx in 0..field.tiles_x {
            let mut d = (0isize, 0isize);
            for (level, ((c, o), w)) in levels.iter().zip(others).zip(weights).enumerate() {
                let scale = 4 >> level; // 4, 2, 1
                let size = (TILE / scale) as isize;
                let origin = ((tx * TILE / scale) as isize, (ty * TILE / scale) as isize);
                let reach = if level == 0 { coarse } else { 1 };
                let centre = if level == 0 {
                    (0, 0)
                } else {
                    (2 * d.0, 2 * d.1)
                };
                let m = Match {
                    cur: c,
                    other: o,
                    weight: w,
                    origin,
                    size,
                };
                d = m.best(centre, reach, scale as f32);
            }
            let origin = ((tx * TILE) as isize, (ty * TILE) as isize);
            let size = TILE as isize;
            let m = Match {
                cur,
                other,
                weight,
                origin,
                size,
            };
            field.d[ty * field.tiles_x + tx] = m.subpixel(d);
        }
    }
    median_filter(&field)
}

/// One tile matched between two planes at one level of the pyramid.
struct Match<'a> {
    cur: &'a Plane,
    other: &'a Plane,
    weight: &'a Plane,
    origin: (isize, isize),
    size: isize,
}

impl Match<'_> {
    fn cost(&self, d: (isize, isize)) -> f32 {
        self.cur
            .sad(self.other, self.weight, self.origin, self.size, d)
    }

    /// The vector within `reach` of `centre` with the lowest matching cost.
    fn best(&self, centre: (isize, isize), reach: isize, scale: f32) -> (isize, isize) {
        let mut best = (f32::MAX, centre);
        for dy in centre.1 - reach..=centre.1 + reach {
            for dx in centre.0 - reach..=centre.0 + reach {
                let length = (dx.abs() + dy.abs()) as f32 * scale;
                let cost = self.cost((dx, dy)) + LENGTH_COST * length;
                if cost < best.0 {
                    best = (cost, (dx, dy));
                }
            }
        }
        best.1
    }

    /// The whole-pixel vector `d` refined to a fraction of a pixel on each axis, by fitting a V
    /// to the matching cost at d - 1, d and d + 1 (the equiangular fit suits absolute
    /// differences). Slow motion is mostly below a pixel at the mask's resolution: without
    /// this, tiles would snap between 0 and 1 px from frame to frame and the moved masks jitter.
    fn subpixel(&self, d: (isize, isize)) -> (f32, f32) {
        let c0 = self.cost(d);
        let fit = |minus: f32, plus: f32| {
            let rise = minus.max(plus) - c0;
            if rise <= f32::EPSILON {
                return 0.0;
            }
            ((minus - plus) / (2.0 * rise)).clamp(-0.5, 0.5)
        };
        let fx = fit(self.cost((d.0 - 1, d.1)), self.cost((d.0 + 1, d.1)));
        let fy = fit(self.cost((d.0, d.1 - 1)), self.cost((d.0, d.1 + 1)));
        (d.0 as f32 + fx, d.1 as f32 + fy)
    }
}

/// Each tile's vector replaced by the per-component median of its 3x3 neighbourhood.
fn median_filter(f: &Field) -> Field {
    let mut out = f.clone();
    for ty in 0..f.tiles_y {
        for tx in 0..f.tiles_x {
            let mut xs = Vec::with_capacity(9);
            let mut ys = Vec::with_capacity(9);
            for ny in ty.saturating_sub(1)..=(ty + 1).min(f.tiles_y - 1) {
                for nx in tx.saturating_sub(1)..=(tx + 1).min(f.tiles_x - 1) {
                    let (x, y) = f.tile(nx, ny);
                    xs.push(x);
                    ys.push(y);
                }
            }
            xs.sort_by(f32::total_cmp);
            ys.sort_by(f32::total_cmp);
            out.d[ty * f.tiles_x + tx] = (xs[xs.len() / 2], ys[ys.len() / 2]);
        }
    }
    out
}

/// A field expanded to one vector per pixel, to move several planes by the same motion.
pub struct Flow {
    w: usize,
    h: usize,
    d: Vec<(f32, f32)>,
}

impl Flow {
    pub fn new(field: &Field, w: usize, h: usize) -> Flow {
        // Bilinear between tile centres, its per-column and per-row halves computed once.
        let cols: Vec<_> = (0..w).map(|x| field.axis(x, field.tiles_x)).collect();
        let mut d = Vec::with_capacity(w * h);
        for y in 0..h {
            let (y0, y1, ay) = field.axis(y, field.tiles_y);
            d.extend(
                cols.iter()
                    .map(|&(x0, x1, ax)| field.blend(x0, x1, ax, y0, y1, ay)),
            );
        }
        Flow { w, h, d }
    }

    /// Width and height, in pixels.
    pub fn size(&self) -> (usize, usize) {
        (self.w, self.h)
    }

    /// One vector per pixel, row-major: the content at p was at p + d in the other frame.
    pub fn vectors(&self) -> &[(f32, f32)] {
        &self.d
    }

    pub(super) fn vectors_mut(&mut self) -> &mut [(f32, f32)] {
        &mut self.d
    }

    /// `src` (a plane of the other frame) moved onto the current frame.
    pub fn warp(&self, src: &Plane) -> Plane {
        assert_eq!(
            (src.w, src.h),
            (self.w, self.h),
            "plane and flow differ in size"
        );
        let mut px = Vec::with_capacity(self.d.len());
        for (y, row) in self.d.chunks_exact(self.w).enumerate() {
            let y = y as f32;
            px.extend(
                row.iter()
                    .enumerate()
                    .map(|(x, &(dx, dy))| src.sample(x as f32 + dx, y + dy)),
            );
        }
        Plane::new(src.w, src.h, px)
    }
}

/// `src` (a plane of the other frame) moved onto the current frame by `field`.
pub fn warp(src: &Plane, field: &Field) -> Plane {
    Flow::new(field, src.w, src.h).warp(src)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A textured plane moved by `shift`: smooth blobs of several sizes, so every tile has
    /// something to match, their amplitude scaled by `contrast`.
    pub(crate) fn texture_of(w: usize, h: usize, shift: (f32, f32), contrast: f32) -> Plane {
        let px = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 - shift.0, (i / w) as f32 - shift.1);
                let v = 0.2 * (x * 0.31).sin() * (y * 0.23).cos()
                    + 0.15 * ((x + 2.0 * y) * 0.11).sin()
                    + 0.1 * ((3.0 * x - y) * 0.07).cos();
                0.5 + contrast * v
            })
            .collect();
        Plane::new(w, h, px)
    }

    fn texture(w: usize, h: usize, shift: (f32, f32)) -> Plane {
        texture_of(w, h, shift, 1.0)
    }

    fn even(w: usize, h: usize) -> Pyramid {
        Pyramid::new(Plane::new(w, h, vec![1.0; w * h]))
    }

    #[test]
    fn a_shift_is_found_in_every_inner_tile() {
        let prev = texture(96, 80, (0.0, 0.0));
        let cur = texture(96, 80, (11.0, -6.0));
        let f = estimate(
            &Pyramid::new(cur.clone()),
            &Pyramid::new(prev.clone()),
            &even(96, 80),
            24,
        );
        // Content at p now was at p - (11, -6) before.
        for ty in 1..f.tiles_y - 1 {
            for tx in 1..f.tiles_x - 1 {
                let (dx, dy) = f.tile(tx, ty);
                assert!(
                    (dx + 11.0).abs() < 0.05 && (dy - 6.0).abs() < 0.05,
                    "tile {tx},{ty}: {dx},{dy}"
                );
            }
        }
        // Between the centres of inner tiles, every interpolated vector is the true one.
        let warped = warp(&prev, &f);
        let err: f32 = (24 * 96..56 * 96)
            .filter(|i| (24..72).contains(&(i % 96)))
            .map(|i| (warped.px[i] - cur.px[i]).abs())
            .sum::<f32>()
            / (32.0 * 48.0);
        assert!(err < 1e-3, "mean error after warping {err}");
    }

    #[test]
    fn slow_motion_is_found_to_a_fraction_of_a_pixel() {
        let prev = texture(96, 80, (0.0, 0.0));
        let cur = texture(96, 80, (0.4, -0.3));
        let f = estimate(&Pyramid::new(cur), &Pyramid::new(prev), &even(96, 80), 24);
        let (dx, dy) = f.tile(2, 2);
        assert!(
            (dx + 0.4).abs() < 0.1 && (dy - 0.3).abs() < 0.1,
            "{dx},{dy}"
        );
    }

    #[test]
    fn a_flat_plane_is_still_and_search_zero_is_the_identity() {
        let flat = Pyramid::new(Plane::new(40, 40, vec![0.3; 1600]));
        assert_eq!(
            estimate(&flat, &flat, &even(40, 40), 24),
            Field::still(40, 40)
        );
        let t = texture(40, 40, (0.0, 0.0));
        let moved = Pyramid::new(texture(40, 40, (5.0, 0.0)));
        assert_eq!(
            estimate(&moved, &Pyramid::new(t.clone()), &even(40, 40), 0),
            Field::still(40, 40)
        );
        assert_eq!(warp(&t, &Field::still(40, 40)), t);
    }
}
