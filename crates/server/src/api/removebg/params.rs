//! remove.bg's parameters, parsed once into typed values. Form fields and JSON values arrive as
//! a map; every problem is collected, so a 400 names each bad parameter.

use cutout_core::compose::parse_color;
use cutout_core::compose::place::{Length, Margins, Position};
use cutout_core::Rgba;
use serde_json::{Map, Value};

use crate::service::spec::text;

/// The result's size class: the largest number of pixels it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeClass {
    /// `preview`, `small`, `regular`: up to 0.25 MP.
    Preview,
    /// `medium`: up to 1.5 MP.
    Medium,
    /// `hd`: up to 4 MP.
    Hd,
    /// `full`, `4k`, `50MP`, `auto`: the input's size (within the server's limits).
    Full,
}

impl SizeClass {
    pub fn max_pixels(self) -> Option<f64> {
        match self {
            Self::Preview => Some(250_000.0),
            Self::Medium => Some(1_500_000.0),
            Self::Hd => Some(4_000_000.0),
            Self::Full => None,
        }
    }
}

/// What the photo shows: picks the model (see `removebg.person_model`) and is echoed in `X-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Auto,
    Person,
    Product,
    Car,
    Animal,
    Graphic,
    Transportation,
}

impl Kind {
    /// `X-Type`: no classifier runs here, so `auto` reports `other`.
    pub fn header(self) -> &'static str {
        match self {
            Self::Auto => "other",
            Self::Person => "person",
            Self::Product => "product",
            Self::Car => "car",
            Self::Animal => "animal",
            Self::Graphic => "graphic",
            Self::Transportation => "transportation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG when the result has transparency, else JPG.
    Auto,
    Png,
    Jpg,
    Webp,
    /// `color.jpg` + `alpha.png`, as remove.bg lays it out.
    Zip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    Rgba,
    Alpha,
}

/// What goes behind the subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Backdrop {
    None,
    Color(Rgba<u8>),
    Url(String),
    /// Uploaded as `bg_image_file` (the bytes are read by the handler).
    File,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RemoveBgRequest {
    pub size: SizeClass,
    pub kind: Kind,
    pub format: Format,
    /// `x1 y1 x2 y2`, each px or % of the image's width/height.
    pub roi: Option<[Length; 4]>,
    pub crop: bool,
    pub crop_margin: Margins,
    pub scale: Option<f32>,
    pub position: Position,
    pub channels: Channels,
    pub semitransparency: bool,
    pub backdrop: Backdrop,
    /// Accepted for compatibility; no shadow is drawn.
    pub add_shadow: bool,
    pub image_url: Option<String>,
    /// A Cutout extension: an installed image model by name (else chosen by `type`).
    pub model: Option<String>,
}

/// The parameters this endpoint reads; others are ignored, as remove.bg does.
#[cfg(test)]
const PARAMS: [&str; 19] = [
    "image_file",
    "image_file_b64",
    "image_url",
    "size",
    "type",
    "type_level",
    "format",
    "roi",
    "crop",
    "crop_margin",
    "scale",
    "position",
    "channels",
    "semitransparency",
    "bg_color",
    "bg_image_url",
    "bg_image_file",
    "add_shadow",
    "model",
];

struct Reader<'a> {
    fields: &'a Map<String, Value>,
    errors: Vec<String>,
}

impl Reader<'_> {
    /// The value of `name` (empty strings count as absent, as in remove.bg's forms).
    fn get(&mut self, name: &str) -> Option<String> {
        let v = self.fields.get(name)?;
        match text(v) {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(s),
            None => {
                self.errors.push(format!("{name}: must be a string"));
                None
            }
        }
    }

    fn choice<T: Copy>(&mut self, name: &str, default: T, table: &[(&str, T)]) -> T {
        let Some(v) = self.get(name) else {
            return default;
        };
        match table.iter().find(|(k, _)| k.eq_ignore_ascii_case(&v)) {
            Some((_, t)) => *t,
            None => {
                let allowed: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
                self.errors.push(format!(
                    "{name}: `{v}` is not one of {}",
                    allowed.join(", ")
                ));
                default
            }
        }
    }

    fn boolean(&mut self, name: &str, default: bool) -> bool {
        self.choice(
            name,
            default,
            &[("true", true), ("false", false), ("1", true), ("0", false)],
        )
    }

    fn fail(&mut self, name: &str, msg: impl std::fmt::Display) {
        self.errors.push(format!("{name}: {msg}"));
    }
}

/// A length: `30`, `30px` or `10%`.
fn length(s: &str) -> Option<Length> {
    if let Some(p) = s.strip_suffix('%') {
        let p: f32 = p.trim().parse().ok()?;
        return (0.0..=100.0).contains(&p).then_some(Length::Percent(p));
    }
    let px = s.strip_suffix("px").unwrap_or(s).trim();
    px.parse::<u32>().ok().map(Length::Px)
}

/// CSS-style 1-4 values: all; vertical horizontal; top horizontal bottom; top right bottom left.
fn margins(s: &str) -> Option<Margins> {
    let v: Vec<Length> = s.split_whitespace().map(length).collect::<Option<_>>()?;
    let m = |t, r, b, l| Margins {
        top: t,
        right: r,
        bottom: b,
        left: l,
    };
    Some(match v[..] {
        [a] => Margins::all(a),
        [a, b] => m(a, b, a, b),
        [a, b, c] => m(a, b, c, b),
        [a, b, c, d] => m(a, b, c, d),
        _ => return None,
    })
}

fn percent(s: &str) -> Option<f32> {
    let p: f32 = s.strip_suffix('%')?.trim().parse().ok()?;
    (0.0..=100.0).contains(&p).then_some(p / 100.0)
}

pub fn parse(fields: &Map<String, Value>) -> Result<RemoveBgRequest, String> {
    let mut r = Reader {
        fields,
        errors: Vec::new(),
    };
    use SizeClass::*;
    let size = r.choice(
        "size",
        Full,
        &[
            ("auto", Full),
            ("preview", Preview),
            ("small", Preview),
            ("regular", Preview),
            ("medium", Medium),
            ("hd", Hd),
            ("full", Full),
            ("4k", Full),
            ("50MP", Full),
        ],
    );
    let kind = r.choice(
        "type",
        Kind::Auto,
        &[
            ("auto", Kind::Auto),
            ("person", Kind::Person),
            ("product", Kind::Product),
            ("car", Kind::Car),
            ("animal", Kind::Animal),
            ("graphic", Kind::Graphic),
            ("graphics", Kind::Graphic),
            ("transportation", Kind::Transportation),
        ],
    );
    r.choice(
        "type_level",
        (),
        &[("none", ()), ("1", ()), ("2", ()), ("latest", ())],
    );
    let format = r.choice(
        "format",
        Format::Auto,
        &[
            ("auto", Format::Auto),
            ("png", Format::Png),
            ("jpg", Format::Jpg),
            ("jpeg", Format::Jpg),
            ("webp", Format::Webp),
            ("zip", Format::Zip),
        ],
    );
    let channels = r.choice(
        "channels",
        Channels::Rgba,
        &[("rgba", Channels::Rgba), ("alpha", Channels::Alpha)],
    );
    let crop = r.boolean("crop", false);
    let semitransparency = r.boolean("semitransparency", true);
    let add_shadow = r.boolean("add_shadow", false);
    let roi = r.get("roi").and_then(|s| {
        let v: Option<Vec<Length>> = s.split_whitespace().map(length).collect();
        match v.as_deref() {
            Some([a, b, c, d]) => Some([*a, *b, *c, *d]),
            _ => {
                r.fail("roi", "give four values `x1 y1 x2 y2`, each px or %");
                None
            }
        }
    });
    let crop_margin = match r.get("crop_margin") {
        None => Margins::all(Length::Px(0)),
        Some(s) => margins(&s).unwrap_or_else(|| {
            r.fail(
                "crop_margin",
                "give 1-4 values, each px (`30px`) or % (`10%`)",
            );
            Margins::all(Length::Px(0))
        }),
    };
    let scale = match r.get("scale").as_deref() {
        None | Some("original") => None,
        Some(s) => match percent(s).filter(|p| (0.1..=1.0).contains(p)) {
            Some(p) => Some(p),
            None => {
                r.fail("scale", "use `original` or 10%-100%");
                None
            }
        },
    };
    let position = match r.get("position").as_deref() {
        None if scale.is_some() => Position::At { x: 0.5, y: 0.5 },
        None | Some("original") => Position::Original,
        Some("center") => Position::At { x: 0.5, y: 0.5 },
        Some(s) => {
            let v: Option<Vec<f32>> = s.split_whitespace().map(percent).collect();
            match v.as_deref() {
                Some([x]) => Position::At { x: *x, y: *x },
                Some([x, y]) => Position::At { x: *x, y: *y },
                _ => {
                    r.fail("position", "use `original`, `center`, or `x% y%`");
                    Position::Original
                }
            }
        }
    };
    let backdrop = backdrop(&mut r);
    let image_url = r.get("image_url");
    let model = r.get("model");
    if r.errors.is_empty() {
        Ok(RemoveBgRequest {
            size,
            kind,
            format,
            roi,
            crop,
            crop_margin,
            scale,
            position,
            channels,
            semitransparency,
            backdrop,
            add_shadow,
            image_url,
            model,
        })
    } else {
        Err(r.errors.join("; "))
    }
}

fn backdrop(r: &mut Reader) -> Backdrop {
    let colour = r.get("bg_color");
    let url = r.get("bg_image_url");
    let file = r.fields.contains_key("bg_image_file");
    match (colour, url, file) {
        (None, None, false) => Backdrop::None,
        (Some(c), None, false) => match parse_color(&c) {
            Ok(c) => Backdrop::Color(c),
            Err(e) => {
                r.fail("bg_color", e);
                Backdrop::None
            }
        },
        (None, Some(u), false) => Backdrop::Url(u),
        (None, None, true) => Backdrop::File,
        _ => {
            r.fail(
                "bg_color",
                "give at most one of bg_color, bg_image_url and bg_image_file",
            );
            Backdrop::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(v: Value) -> Result<RemoveBgRequest, String> {
        parse(v.as_object().unwrap())
    }

    #[test]
    fn defaults_and_aliases() {
        let r = parsed(json!({})).unwrap();
        assert_eq!(
            (r.size, r.kind, r.format),
            (SizeClass::Full, Kind::Auto, Format::Auto)
        );
        assert!(r.semitransparency && !r.crop);
        let r =
            parsed(json!({"size": "regular", "type": "PERSON", "format": "jpeg", "crop": true}))
                .unwrap();
        assert_eq!(
            (r.size, r.kind, r.format, r.crop),
            (SizeClass::Preview, Kind::Person, Format::Jpg, true)
        );
    }

    #[test]
    fn lengths_positions_and_margins() {
        let r =
            parsed(json!({"crop_margin": "10px 5%", "scale": "50%", "roi": "0% 10px 100% 90%"}))
                .unwrap();
        assert_eq!(r.crop_margin.top, Length::Px(10));
        assert_eq!(r.crop_margin.left, Length::Percent(5.0));
        assert_eq!(r.scale, Some(0.5));
        assert_eq!(
            r.position,
            Position::At { x: 0.5, y: 0.5 },
            "scale centres by default"
        );
        assert_eq!(r.roi.unwrap()[1], Length::Px(10));
        let r = parsed(json!({"position": "0% 100%"})).unwrap();
        assert_eq!(r.position, Position::At { x: 0.0, y: 1.0 });
    }

    #[test]
    fn the_documented_form_lists_every_parameter() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(super::super::types::RemoveBgForm::schema()).unwrap();
        let mut documented: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut ours = PARAMS.to_vec();
        documented.sort();
        ours.sort();
        assert_eq!(documented, ours);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let e = parsed(json!({"size": "huge", "scale": "5%", "crop_margin": "1 2 3 4 5", "bg_color": "nope", "roi": "1 2"})).unwrap_err();
        for name in ["size:", "scale:", "crop_margin:", "bg_color:", "roi:"] {
            assert!(e.contains(name), "{e}");
        }
    }
}
