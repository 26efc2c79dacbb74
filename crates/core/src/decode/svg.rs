//! SVG, rasterised in-process with resvg at the document's intrinsic size.
//!
//! An uploaded SVG is untrusted code for a renderer, so it is parsed under limits first (bytes,
//! entity expansion, element count, nesting depth) and may only use what it carries: `<image>`
//! and `<feImage>` must be embedded `data:` images (a path or a URL is refused, so nothing is
//! read from disk or fetched), nested SVG images are ignored, and embedded rasters are checked
//! against the pixel limits before resvg decodes them. Text uses the system's fonts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use image::RgbaImage;
use resvg::{tiny_skia, usvg};

use super::{check_dimensions, DecodeLimits};
use crate::DecodeError;

/// The longer side of an SVG that gives only a `viewBox` (no `width`/`height`), in pixels: icons
/// drawn in a 24-unit box would otherwise be rasterised at 24 px, too small to segment.
pub const DEFAULT_SIDE: f32 = 1024.0;

fn invalid(what: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt(format!("SVG: {what}"))
}

/// A parsed document, ready to render at `width`×`height`.
pub(super) struct Svg {
    tree: usvg::Tree,
    pub width: u32,
    pub height: u32,
}

pub(super) fn parse(bytes: &[u8], limits: &DecodeLimits) -> Result<Svg, DecodeError> {
    let text = std::str::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text"))?;
    let expanded = entity_expansion(text);
    if expanded > limits.max_bytes {
        return Err(invalid(format!(
            "its entities expand to over {} bytes (limit {})",
            expanded, limits.max_bytes
        )));
    }
    let xml = roxmltree::ParsingOptions {
        allow_dtd: true,
        nodes_limit: limits.svg_max_nodes,
    };
    let doc = roxmltree::Document::parse_with_options(text, xml).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => invalid(format!(
            "more than {} XML nodes (limit)",
            limits.svg_max_nodes
        )),
        e => invalid(e),
    })?;
    check_structure(&doc, limits.svg_max_depth)?;
    let oversized = AtomicBool::new(false);
    let tree = usvg::Tree::from_xmltree(&doc, &options(limits, &oversized)).map_err(invalid)?;
    if oversized.load(Ordering::Relaxed) {
        return Err(invalid("an embedded image is over the pixel limits"));
    }
    let root = doc.root_element();
    let sized = root.has_attribute("width") || root.has_attribute("height");
    let size = tree.size();
    let scale = if sized {
        1.0
    } else {
        DEFAULT_SIDE / size.width().max(size.height())
    };
    let (w, h) = (size.width() * scale, size.height() * scale);
    if !(w.is_finite() && h.is_finite()) || w > u32::MAX as f32 || h > u32::MAX as f32 {
        return Err(invalid("its size is not a finite number of pixels"));
    }
    let (width, height) = ((w.round() as u32).max(1), (h.round() as u32).max(1));
    check_dimensions(width, height, limits)?;
    Ok(Svg {
        tree,
        width,
        height,
    })
}

impl Svg {
    pub fn render(&self) -> Result<RgbaImage, DecodeError> {
        let mut pixmap = tiny_skia::Pixmap::new(self.width, self.height)
            .ok_or_else(|| invalid("cannot allocate the raster"))?;
        let size = self.tree.size();
        let t = tiny_skia::Transform::from_scale(
            self.width as f32 / size.width(),
            self.height as f32 / size.height(),
        );
        resvg::render(&self.tree, t, &mut pixmap.as_mut());
        // tiny-skia keeps premultiplied colour; the pipeline works on straight alpha.
        let mut out = pixmap.take();
        for px in out.chunks_exact_mut(4) {
            let c = tiny_skia::PremultipliedColorU8::from_rgba(px[0], px[1], px[2], px[3])
                .map(|c| c.demultiply())
                .map(|c| [c.red(), c.green(), c.blue(), c.alpha()]);
            if let Some(c) = c {
                px.copy_from_slice(&c);
            }
        }
        Ok(RgbaImage::from_raw(self.width, self.height, out).expect("4 bytes a pixel"))
    }
}

fn options<'a>(limits: &DecodeLimits, oversized: &'a AtomicBool) -> usvg::Options<'a> {
    let limits = *limits;
    let embedded = usvg::ImageHrefResolver::default_data_resolver();
    let resolver = usvg::ImageHrefResolver {
        resolve_data: Box::new(move |mime, data, opts| {
            if mime == "image/svg+xml" || mime == "text/plain" && !is_raster(&data) {
                return None; // a nested SVG would escape the limits above
            }
            let fits =
                super::probe(&data).is_ok_and(|(_, w, h)| check_dimensions(w, h, &limits).is_ok());
            if !fits {
                oversized.store(true, Ordering::Relaxed);
                return None;
            }
            embedded(mime, data, opts)
        }),
        // Paths and URLs: never read, never fetched (check_structure refused them already).
        resolve_string: Box::new(|_, _| None),
    };
    usvg::Options {
        resources_dir: None,
        default_size: usvg::Size::from_wh(DEFAULT_SIDE, DEFAULT_SIDE).expect("positive"),
        image_href_resolver: resolver,
        fontdb: system_fonts(),
        ..usvg::Options::default()
    }
}

fn is_raster(data: &[u8]) -> bool {
    image::guess_format(data).is_ok()
}

/// Scanning the system's fonts takes tens of milliseconds: done once per process.
fn system_fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            Arc::new(db)
        })
        .clone()
}

const XLINK: &str = "http://www.w3.org/1999/xlink";

/// Refuses nesting deeper than `max_depth` (the renderer recurses) and references to anything
/// but embedded data or the document itself.
fn check_structure(doc: &roxmltree::Document, max_depth: u32) -> Result<(), DecodeError> {
    let mut stack = vec![(doc.root_element(), 1u32)];
    while let Some((node, depth)) = stack.pop() {
        if depth > max_depth {
            return Err(invalid(format!("elements nested deeper than {max_depth}")));
        }
        let href = node
            .attribute((XLINK, "href"))
            .or_else(|| node.attribute("href"))
            .map(str::trim);
        if let Some(href) = href {
            let local = href.starts_with('#') || href.starts_with("data:");
            if !local {
                return Err(invalid(format!(
                    "<{}> refers to `{}`: only embedded data: images and #fragments are allowed",
                    node.tag_name().name(),
                    href.chars().take(80).collect::<String>()
                )));
            }
        }
        stack.extend(
            node.children()
                .filter(|c| c.is_element())
                .map(|c| (c, depth + 1)),
        );
    }
    Ok(())
}

/// An upper bound of the document's size once its internal entities are expanded, so that a
/// "billion laughs" or a quadratic blow-up is refused before the XML parser expands anything.
fn entity_expansion(text: &str) -> u64 {
    let Some(start) = text.find("<!DOCTYPE") else {
        return text.len() as u64;
    };
    let Some(end) = text[start..].find("]>").map(|e| start + e) else {
        return text.len() as u64;
    };
    let subset = &text[start..end];
    let mut entities: Vec<(&str, &str)> = Vec::new();
    for decl in subset.split("<!ENTITY").skip(1) {
        let decl = decl.trim_start().trim_start_matches('%').trim_start();
        let name_end = decl.find(char::is_whitespace).unwrap_or(decl.len());
        let rest = decl[name_end..].trim_start();
        let Some(quote) = rest.chars().next().filter(|q| *q == '"' || *q == '\'') else {
            continue; // external (SYSTEM/PUBLIC): not loaded by the parser
        };
        let value = rest[1..].split(quote).next().unwrap_or("");
        entities.push((&decl[..name_end], value));
    }
    let mut memo = std::collections::HashMap::new();
    expanded_len(&text[end..], &entities, &mut memo, 0) + (end - start) as u64
}

fn expanded_len<'a>(
    s: &str,
    entities: &[(&'a str, &'a str)],
    memo: &mut std::collections::HashMap<&'a str, u64>,
    depth: u32,
) -> u64 {
    if depth > 12 {
        return u64::MAX / 4; // a cycle: the parser refuses it, and so do we
    }
    let mut total = s.len() as u64;
    for (name, value) in entities {
        let refs = s.matches(&format!("&{name};")).count() as u64;
        if refs == 0 {
            continue;
        }
        let len = match memo.get(name) {
            Some(&l) => l,
            None => {
                let l = expanded_len(value, entities, memo, depth + 1);
                memo.insert(name, l);
                l
            }
        };
        total = total.saturating_add(refs.saturating_mul(len));
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laughs_are_counted_before_expansion() {
        let mut doc =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE svg [\n<!ENTITY l0 \"lol\">\n");
        for i in 1..10 {
            let refs = format!("&l{};", i - 1).repeat(10);
            doc.push_str(&format!("<!ENTITY l{i} \"{refs}\">\n"));
        }
        doc.push_str("]>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><text>&l9;</text></svg>");
        assert!(
            entity_expansion(&doc) > 3_000_000_000,
            "{}",
            entity_expansion(&doc)
        );
        let plain =
            "<!DOCTYPE svg [<!ENTITY ns \"http://www.w3.org/2000/svg\">]><svg xmlns=\"&ns;\"/>";
        assert!(entity_expansion(plain) < 200);
    }
}
