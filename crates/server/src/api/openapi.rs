//! The API description at `/openapi.json`, assembled once from each family's fragment (its tags,
//! paths and the components only it uses) over the shared base (info, security schemes, the
//! components several families use). A family edits its own fragment; the route/spec test
//! (`tests/api/system.rs`) fails when the router and the document disagree.

use std::sync::OnceLock;

use serde_json::{Map, Value};

const BASE: &str = include_str!("openapi.base.json");

/// Every family's fragment, in the order the document lists them. The system routes' part sits
/// beside this file, since `system` serves the document.
const FRAGMENTS: [(&str, &str); 4] = [
    ("image_jobs", super::image_jobs::OPENAPI),
    ("system", include_str!("system.openapi.json")),
    ("assets", super::assets::OPENAPI),
    ("video", super::video::OPENAPI),
];

/// The whole document, as served.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| assemble().to_string())
}

fn assemble() -> Value {
    // The fragments are compiled in and checked by the tests below: a parse error is a bug in
    // this build, not an input.
    let mut doc: Value = serde_json::from_str(BASE).expect("openapi.base.json parses");
    for (family, text) in FRAGMENTS {
        let fragment: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("the {family} OpenAPI fragment does not parse: {e}"));
        merge(&mut doc, fragment);
    }
    doc
}

/// Appends the fragment's tags and adds its paths and components.
fn merge(doc: &mut Value, fragment: Value) {
    let Value::Object(fragment) = fragment else {
        return;
    };
    for (key, value) in fragment {
        match (key.as_str(), value) {
            ("tags", Value::Array(tags)) => {
                if let Some(list) = doc["tags"].as_array_mut() {
                    list.extend(tags);
                }
            }
            ("paths", Value::Object(paths)) => object(&mut doc["paths"]).extend(paths),
            ("components", Value::Object(sections)) => {
                for (section, items) in sections {
                    if let Value::Object(items) = items {
                        object(&mut doc["components"][&section]).extend(items);
                    }
                }
            }
            _ => {}
        }
    }
}

fn object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("made an object above")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn refs(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => {
                            out.insert(r.clone());
                        }
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn fragments_do_not_overlap_and_every_reference_resolves() {
        let mut seen_paths = BTreeSet::new();
        let mut seen_components = BTreeSet::new();
        let base: Value = serde_json::from_str(BASE).unwrap();
        for (section, items) in base["components"].as_object().unwrap() {
            for name in items.as_object().unwrap().keys() {
                seen_components.insert(format!("#/components/{section}/{name}"));
            }
        }
        for (family, text) in FRAGMENTS {
            let f: Value = serde_json::from_str(text).unwrap();
            for p in f["paths"].as_object().unwrap().keys() {
                assert!(seen_paths.insert(p.clone()), "{family}: {p} twice");
            }
            for (section, items) in f["components"].as_object().into_iter().flatten() {
                for name in items.as_object().unwrap().keys() {
                    let r = format!("#/components/{section}/{name}");
                    assert!(seen_components.insert(r.clone()), "{family}: {r} twice");
                }
            }
        }
        let doc = assemble();
        let mut used = BTreeSet::new();
        refs(&doc, &mut used);
        let missing: Vec<_> = used.difference(&seen_components).collect();
        assert!(missing.is_empty(), "unresolved: {missing:?}");
        assert_eq!(doc["paths"].as_object().unwrap().len(), seen_paths.len());
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
