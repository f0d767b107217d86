//! SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: `add`, `replace` and `remove`,
//! with no path, an attribute path (with or without its schema's URN), or `attr[filter]` and
//! `attr[filter].sub`. What the resource becomes is then applied as a whole, like a PUT.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::filter;
use super::{ENTERPRISE, GROUP_SCHEMA, ROSTER_EXT, USER_SCHEMA};

pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Operations in one PATCH request at most.
pub const MAX_OPERATIONS: usize = 100;
/// The longest path of an operation, in bytes.
pub const MAX_PATH: usize = 1024;

/// Why a PATCH cannot be applied: the RFC 7644 `scimType` and a detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub scim_type: &'static str,
    pub detail: String,
}

fn fault(scim_type: &'static str, detail: impl Into<String>) -> Fault {
    Fault {
        scim_type,
        detail: detail.into(),
    }
}

/// The operations of a PATCH body, at most `MAX_OPERATIONS`.
pub fn operations(patch: &Value) -> Result<&Vec<Value>, Fault> {
    let schema_ok = patch["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x == PATCH_SCHEMA));
    let ops = patch["Operations"]
        .as_array()
        .filter(|_| schema_ok)
        .ok_or_else(|| fault("invalidSyntax", "A PatchOp with Operations is expected"))?;
    if ops.len() > MAX_OPERATIONS {
        return Err(fault("invalidSyntax", "Too many operations"));
    }
    Ok(ops)
}

/// Applies every operation of a PATCH body to `resource`, in order.
pub fn apply_all(resource: &mut Value, patch: &Value) -> Result<(), Fault> {
    for op in operations(patch)? {
        apply(resource, op)?;
    }
    Ok(())
}

fn key_ci(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Sets `value` at `name` in an object, merging objects (add) or replacing.
fn set(obj: &mut Map<String, Value>, name: &str, value: Value, merge: bool) {
    let key = key_ci(obj, name).unwrap_or_else(|| name.to_string());
    match (obj.get_mut(&key), value) {
        (Some(Value::Object(old)), Value::Object(new)) if merge => {
            for (k, v) in new {
                set(old, &k, v, true);
            }
        }
        (Some(Value::Array(old)), Value::Array(new)) if merge => old.extend(new),
        (_, v) => {
            obj.insert(key, v);
        }
    }
}

/// Splits a PATCH path into the schema it names (None for the core schema) and the attribute
/// path after it ("" when the path is an extension's URN alone).
fn split_urn(path: &str) -> (Option<&str>, &str) {
    let known = [
        (USER_SCHEMA, false),
        (GROUP_SCHEMA, false),
        (ENTERPRISE, true),
        (ROSTER_EXT, true),
    ];
    for (uri, extension) in known {
        let Some(head) = path.get(..uri.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(uri) {
            continue;
        }
        let rest = &path[uri.len()..];
        match (rest, rest.strip_prefix(':')) {
            ("", _) if extension => return (Some(uri), ""),
            (_, Some(attr)) => return (extension.then_some(uri), attr),
            _ => {}
        }
    }
    // Another extension: its URN ends at the last colon.
    match path.rfind(':') {
        Some(i)
            if path
                .get(..4)
                .is_some_and(|h| h.eq_ignore_ascii_case("urn:")) =>
        {
            (Some(&path[..i]), &path[i + 1..])
        }
        _ => (None, path),
    }
}

/// One PATCH operation on the resource's JSON.
pub fn apply(resource: &mut Value, op: &Value) -> Result<(), Fault> {
    let bad = |what: &str| fault("invalidPath", what);
    let kind = op["op"].as_str().unwrap_or("").to_ascii_lowercase();
    let path = op["path"].as_str().unwrap_or("").trim();
    if path.len() > MAX_PATH {
        return Err(bad("path too long"));
    }
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    let Some(obj) = resource.as_object_mut() else {
        return Err(bad("not an object"));
    };
    match (kind.as_str(), path) {
        ("add" | "replace", "") => {
            let Value::Object(fields) = value else {
                return Err(fault("invalidValue", "A value object is expected"));
            };
            for (k, v) in fields {
                set(obj, &k, v, kind == "add");
            }
            Ok(())
        }
        ("add" | "replace" | "remove", path) if !path.is_empty() => {
            if let Some(open) = path.find('[') {
                return apply_filtered(obj, &kind, path, open, value);
            }
            // Attributes may be written with their schema: `urn:…:User:attr`, or the bare
            // URN of an extension for the whole extension object.
            let (container, attr) = split_urn(path);
            if let (Some(uri), "") = (container, attr) {
                let key = key_ci(obj, uri).unwrap_or_else(|| uri.to_string());
                if kind == "remove" {
                    obj.remove(&key);
                } else {
                    set(obj, &key, value, kind == "add");
                }
                return Ok(());
            }
            let target = match container {
                Some(uri) => {
                    let key = key_ci(obj, uri).unwrap_or_else(|| uri.to_string());
                    obj.entry(key.clone())
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                        .ok_or_else(|| bad("not an object"))?
                }
                None => obj,
            };
            let (name, sub) = match attr.split_once('.') {
                Some((n, s)) => (n, Some(s)),
                None => (attr, None),
            };
            match (kind.as_str(), sub) {
                ("remove", None) => {
                    let Some(k) = key_ci(target, name) else {
                        return Ok(());
                    };
                    // `remove` with values takes those values out of a multi-valued
                    // attribute (as some providers send for group members).
                    match (target.get_mut(&k), &value) {
                        (Some(Value::Array(items)), Value::Array(gone)) if !gone.is_empty() => {
                            let ids: HashSet<String> =
                                gone.iter().map(|g| g["value"].to_string()).collect();
                            items.retain(|i| !ids.contains(&i["value"].to_string()));
                        }
                        _ => {
                            target.remove(&k);
                        }
                    }
                }
                ("remove", Some(s)) => {
                    if let Some(k) = key_ci(target, name)
                        && let Some(o) = target.get_mut(&k).and_then(Value::as_object_mut)
                        && let Some(sk) = key_ci(o, s)
                    {
                        o.remove(&sk);
                    }
                }
                (_, None) => set(target, name, value, kind == "add"),
                (_, Some(s)) => {
                    let k = key_ci(target, name).unwrap_or_else(|| name.to_string());
                    let entry = target.entry(k).or_insert_with(|| json!({}));
                    let o = entry.as_object_mut().ok_or_else(|| bad("not an object"))?;
                    set(o, s, value, kind == "add");
                }
            }
            Ok(())
        }
        _ => Err(fault("invalidSyntax", "op must be add, replace or remove")),
    }
}

/// `attr[filter]` and `attr[filter].sub`: the operation on each element the filter matches.
fn apply_filtered(
    obj: &mut Map<String, Value>,
    kind: &str,
    path: &str,
    open: usize,
    value: Value,
) -> Result<(), Fault> {
    let close = path
        .rfind(']')
        .filter(|c| *c > open)
        .ok_or_else(|| fault("invalidPath", "a value filter needs its ]"))?;
    let attr = &path[..open];
    let inner =
        filter::parse(&path[open + 1..close]).map_err(|e| fault("invalidFilter", e.to_string()))?;
    let sub = path[close + 1..].trim_start_matches('.');
    let key = key_ci(obj, attr).ok_or_else(|| fault("noTarget", "No such attribute"))?;
    let Some(Value::Array(items)) = obj.get_mut(&key) else {
        return Err(fault("noTarget", "Not multi-valued"));
    };
    if kind == "remove" && sub.is_empty() {
        items.retain(|i| !inner.matches(i));
        return Ok(());
    }
    let mut hit = false;
    for item in items.iter_mut().filter(|i| inner.matches(i)) {
        hit = true;
        if let Some(o) = item.as_object_mut() {
            if kind == "remove" {
                if let Some(k) = key_ci(o, sub) {
                    o.remove(&k);
                }
            } else {
                set(o, sub, value.clone(), false);
            }
        }
    }
    if !hit && kind != "remove" {
        return Err(fault("noTarget", "No value matches"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(ops: Value) -> Value {
        json!({"schemas": [PATCH_SCHEMA], "Operations": ops})
    }

    fn user() -> Value {
        json!({
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [
                {"value": "b@work.test", "type": "work", "primary": true},
                {"value": "b@home.test", "type": "home"}
            ],
            "members": [{"value": "a"}, {"value": "b"}, {"value": "c"}]
        })
    }

    #[test]
    fn add_replace_and_remove_by_path() {
        let mut u = user();
        apply_all(
            &mut u,
            &patch(json!([
                {"op": "replace", "path": "name.givenName", "value": "Babs"},
                {"op": "add", "path": "title", "value": "Tour guide"},
                {"op": "remove", "path": "name.familyName"},
                {"op": "add", "value": {"nickName": "B", "name": {"middleName": "J"}}},
            ])),
        )
        .unwrap();
        assert_eq!(u["name"], json!({"givenName": "Babs", "middleName": "J"}));
        assert_eq!(u["title"], "Tour guide");
        assert_eq!(u["nickName"], "B");
    }

    #[test]
    fn value_filters_reach_elements() {
        let mut u = user();
        apply_all(
            &mut u,
            &patch(json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@work.test"},
                {"op": "remove", "path": "emails[type eq \"home\"]"},
            ])),
        )
        .unwrap();
        assert_eq!(
            u["emails"],
            json!([{"value": "new@work.test", "type": "work", "primary": true}])
        );
        let miss = apply(
            &mut u,
            &json!({"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}),
        );
        assert_eq!(miss.unwrap_err().scim_type, "noTarget");
    }

    #[test]
    fn schemas_in_paths_and_whole_extensions() {
        let mut u = user();
        apply(
            &mut u,
            &json!({"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Sales"}),
        )
        .unwrap();
        assert_eq!(u[ENTERPRISE]["department"], "Sales");
        apply(
            &mut u,
            &json!({"op": "replace", "path": format!("{USER_SCHEMA}:userName"), "value": "bj"}),
        )
        .unwrap();
        assert_eq!(u["userName"], "bj");
        apply(&mut u, &json!({"op": "remove", "path": ENTERPRISE})).unwrap();
        assert!(u.get(ENTERPRISE).is_none());
    }

    #[test]
    fn remove_with_values_takes_those_out() {
        let mut u = user();
        apply(
            &mut u,
            &json!({"op": "remove", "path": "members", "value": [{"value": "a"}, {"value": "c"}]}),
        )
        .unwrap();
        assert_eq!(u["members"], json!([{"value": "b"}]));
    }

    #[test]
    fn what_cannot_be_applied_is_refused_never_a_panic() {
        let mut u = user();
        for (op, scim_type) in [
            (json!({"op": "remove", "path": "a]b[c"}), "invalidPath"),
            (
                json!({"op": "remove", "path": "emails[type eq"}),
                "invalidPath",
            ),
            (
                json!({"op": "remove", "path": "emails[type zz \"x\"]"}),
                "invalidFilter",
            ),
            (json!({"op": "move", "path": "title"}), "invalidSyntax"),
            (json!({"op": "add", "value": 3}), "invalidValue"),
            (
                json!({"op": "remove", "path": "x".repeat(MAX_PATH + 1)}),
                "invalidPath",
            ),
        ] {
            assert_eq!(apply(&mut u, &op).unwrap_err().scim_type, scim_type, "{op}");
        }
        let many = patch(Value::Array(vec![
            json!({"op": "add", "path": "title", "value": "x"});
            MAX_OPERATIONS + 1
        ]));
        assert_eq!(
            apply_all(&mut u, &many).unwrap_err().scim_type,
            "invalidSyntax"
        );
        assert!(
            operations(&json!({"Operations": []})).is_err(),
            "the schema is needed"
        );
    }
}
