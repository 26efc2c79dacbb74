//! Validation of processing requests: defaults, every bad field named, stored form.

use serde_json::json;

use super::*;

fn ctx() -> Context<'static> {
    static MODELS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    Context {
        models: MODELS.get_or_init(|| vec!["u2net".into(), "u2netp".into()]),
        default_model: "u2net",
        allow_hosts: &[],
    }
}

fn parse(v: Value, mode: Mode) -> Result<ProcessingRequest, FieldErrors> {
    parse_options(v.as_object().unwrap(), mode, None, None, &ctx())
}

#[test]
fn defaults_follow_the_contract() {
    let s = parse(json!({}), Mode::Clipping).unwrap();
    assert_eq!(
        (s.delivery, s.output_format, s.model.as_str()),
        (Delivery::Url, OutputFormat::Png, "u2net")
    );
    assert_eq!(s.backdrop, Backdrop::Transparent);
    let s = parse(json!({}), Mode::Background).unwrap();
    assert_eq!(s.backdrop, Backdrop::Color("#ffffff".parse().unwrap()));
}

/// A spec goes into the job row as JSON and comes back the same, with core's types spelt
/// as a client would write them; an older job's spelling (`"jpeg"`, a named colour) loads.
#[test]
fn specs_round_trip_as_readable_json() {
    let fields = json!({"output_format": "jpeg", "bg_color": "red", "crop_margin": "10%"});
    let s = parse(fields, Mode::Background).unwrap();
    let stored = serde_json::to_value(&s).unwrap();
    assert_eq!(
        (
            &stored["output_format"],
            &stored["crop_margin"],
            &stored["backdrop"]["value"]
        ),
        (&json!("jpg"), &json!("10%"), &json!("#ff0000"))
    );
    assert_eq!(
        serde_json::from_value::<ProcessingRequest>(stored.clone()).unwrap(),
        s
    );
    let mut old = stored;
    old["output_format"] = json!("jpeg");
    old["backdrop"]["value"] = json!("red");
    old["crop_margin"] = json!("0");
    let loaded: ProcessingRequest = serde_json::from_value(old).unwrap();
    assert_eq!(loaded.output_format, OutputFormat::Jpeg);
    assert_eq!(loaded.crop_margin, CropMargin::Px(0));
    assert_eq!(loaded.backdrop, s.backdrop);
}

#[test]
fn every_bad_field_is_named() {
    let e = parse(
        json!({"delivery_mode": "ftp", "output_format": "bmp", "model": "nope", "bg_color": "#zz",
               "crop_margin": "-5", "size": "huge", "only_mask": "maybe", "webhook_url": "http://10.0.0.1/"}),
        Mode::Background,
    )
    .unwrap_err();
    let fields: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "bg_color",
            "crop_margin",
            "delivery_mode",
            "model",
            "only_mask",
            "output_format",
            "size",
            "webhook_url"
        ]
    );
}

#[test]
fn multipart_strings_are_understood() {
    let s = parse(json!({"crop": "true", "crop_margin": "10%", "size": "800x600", "only_mask": "1", "output_format": "JPG"}), Mode::Clipping).unwrap();
    assert!(s.crop && s.only_mask);
    assert_eq!(
        s.size,
        Size::Box {
            width: 800,
            height: 600
        }
    );
    assert_eq!(s.format(), OutputFormat::Mask);
}

#[test]
fn clipping_refuses_a_background() {
    let e = parse(json!({"bg_color": "#ff0000"}), Mode::Clipping).unwrap_err();
    assert!(e.contains_key("mode"));
}
