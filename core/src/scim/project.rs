//! What a SCIM answer shows of a resource: `attributes` and `excludedAttributes` (RFC 7644
//! §3.4.2.5; `id` and `schemas` always stay), and the order of a list (`sortBy`, `sortOrder`).

use serde_json::{Map, Value, json};

use super::USER_SCHEMA;
use super::filter::{self, AttrPath};

/// Attribute names read from one `attributes` or `excludedAttributes` at most.
pub const MAX_ATTRIBUTES: usize = 100;

/// An attribute name as a request writes it: `name.givenName`, or with the schema URI.
fn split_attr(a: &str) -> (Option<&str>, &str, Option<&str>) {
    let (uri, rest) = match a.rfind(':') {
        Some(i) => (Some(&a[..i]), &a[i + 1..]),
        None => (None, a),
    };
    match rest.split_once('.') {
        Some((n, s)) => (uri, n, Some(s)),
        None => (uri, rest, None),
    }
}

/// A comma-separated list of attribute names, at most `MAX_ATTRIBUTES` of them.
fn names(s: Option<&str>) -> Vec<&str> {
    s.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .take(MAX_ATTRIBUTES)
        .collect()
}

fn find_ci<'m>(o: &'m Map<String, Value>, name: &str) -> Option<(&'m String, &'m Value)> {
    o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
}

/// Keeps only `attributes` (when given), else drops `excluded`.
pub fn project(v: &mut Value, attributes: Option<&str>, excluded: Option<&str>) {
    let (keep, drop) = (names(attributes), names(excluded));
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    if !keep.is_empty() {
        *obj = kept(obj, &keep);
        return;
    }
    for a in drop {
        dropped(obj, a);
    }
}

fn container_key(obj: &Map<String, Value>, uri: Option<&str>) -> Option<String> {
    match uri {
        Some(u) if !u.eq_ignore_ascii_case(USER_SCHEMA) => find_ci(obj, u).map(|(k, _)| k.clone()),
        _ => None,
    }
}

fn kept(obj: &Map<String, Value>, keep: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, val) in obj {
        if k == "id" || k == "schemas" {
            out.insert(k.clone(), val.clone());
        }
    }
    for a in keep {
        let (uri, name, sub) = split_attr(a);
        // An extension URN alone names the whole extension.
        if let Some((ext, val)) = find_ci(obj, a)
            && ext.contains(':')
        {
            out.insert(ext.clone(), val.clone());
            continue;
        }
        let container = container_key(obj, uri);
        let source = match &container {
            Some(c) => obj.get(c).and_then(Value::as_object),
            None => Some(obj),
        };
        let Some((key, val)) = source.and_then(|s| find_ci(s, name)) else {
            continue;
        };
        let sub_of = |o: &Map<String, Value>, s: &str| {
            let mut m = Map::new();
            if let Some((sk, sv)) = find_ci(o, s) {
                m.insert(sk.clone(), sv.clone());
            }
            m
        };
        let picked = match (sub, val) {
            (None, v) => v.clone(),
            (Some(s), Value::Object(o)) => {
                let mut m = sub_of(o, s);
                let prev = match &container {
                    Some(c) => out.get(c).and_then(|x| x.get(key)).cloned(),
                    None => out.get(key).cloned(),
                };
                if let Some(Value::Object(p)) = prev {
                    m.extend(p);
                }
                Value::Object(m)
            }
            (Some(s), Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|i| Value::Object(i.as_object().map(|o| sub_of(o, s)).unwrap_or_default()))
                    .collect(),
            ),
            (Some(_), v) => v.clone(),
        };
        match &container {
            Some(c) => {
                if let Some(e) = out
                    .entry(c.clone())
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                {
                    e.insert(key.clone(), picked);
                }
            }
            None => {
                out.insert(key.clone(), picked);
            }
        }
    }
    out
}

fn dropped(obj: &mut Map<String, Value>, a: &str) {
    let (uri, name, sub) = split_attr(a);
    if name.eq_ignore_ascii_case("id") || name.eq_ignore_ascii_case("schemas") {
        return;
    }
    let container = container_key(obj, uri);
    let target = match &container {
        Some(c) => obj.get_mut(c).and_then(Value::as_object_mut),
        None => Some(obj),
    };
    let Some(target) = target else { return };
    let Some(key) = find_ci(target, name).map(|(k, _)| k.clone()) else {
        return;
    };
    let remove_sub = |o: &mut Map<String, Value>, s: &str| {
        if let Some(sk) = find_ci(o, s).map(|(k, _)| k.clone()) {
            o.remove(&sk);
        }
    };
    match (sub, target.get_mut(&key)) {
        (None, _) => {
            target.remove(&key);
        }
        (Some(s), Some(Value::Object(o))) => remove_sub(o, s),
        (Some(s), Some(Value::Array(items))) => {
            for i in items.iter_mut().filter_map(Value::as_object_mut) {
                remove_sub(i, s);
            }
        }
        _ => {}
    }
}

/// A `sortBy` attribute, read once.
#[derive(Debug, Clone)]
pub struct SortBy(AttrPath);

impl SortBy {
    /// The attribute a `sortBy` names, or None when it names none.
    pub fn parse(by: &str) -> Option<SortBy> {
        match filter::parse(&format!("{} pr", by.trim())).ok()? {
            filter::Filter::Present(p) => Some(SortBy(p)),
            _ => None,
        }
    }

    /// Whether it is `userName` (the order the index gives).
    pub fn is_user_name(&self) -> bool {
        self.0.name.eq_ignore_ascii_case("userName")
            && self.0.sub.is_none()
            && self
                .0
                .uri
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(USER_SCHEMA))
    }

    /// The text a resource sorts by, lower case; None when it has no value.
    fn key(&self, v: &Value) -> Option<String> {
        let probe = |val: &Value| -> Option<String> {
            match val {
                Value::String(s) => Some(s.to_lowercase()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(format!("{:020.6}", n.as_f64().unwrap_or(0.0))),
                _ => None,
            }
        };
        let (_, top) = find_ci(v.as_object()?, &self.0.name)?;
        let first = |items: &[Value]| items.first().cloned();
        match (&self.0.sub, top) {
            (None, Value::Array(items)) => first(items).and_then(|i| probe(&i["value"])),
            (None, other) => probe(other),
            (Some(s), Value::Object(o)) => find_ci(o, s).and_then(|(_, x)| probe(x)),
            (Some(s), Value::Array(items)) => {
                let i = first(items)?;
                find_ci(i.as_object()?, s).and_then(|(_, x)| probe(x))
            }
            _ => None,
        }
    }

    /// Sorts resources by this attribute; those without a value come last in either order.
    pub fn sort(&self, items: &mut [Value], descending: bool) {
        items.sort_by_cached_key(|v| {
            let k = self.key(v);
            // (missing last, then the value, reversed for descending)
            (k.is_none(), SortKey(k, descending))
        });
    }
}

/// A key that orders its text ascending or descending.
#[derive(PartialEq, Eq)]
struct SortKey(Option<String>, bool);

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let o = self.0.cmp(&other.0);
        if self.1 { o.reverse() } else { o }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Value {
        json!({
            "schemas": [USER_SCHEMA], "id": "1", "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@x.test", "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", "manager": {"value": "2"}}
        })
    }

    #[test]
    fn attributes_keep_only_those_and_always_id_and_schemas() {
        let mut u = user();
        project(&mut u, Some("userName, name.givenName, emails.value"), None);
        assert_eq!(
            u,
            json!({"schemas": [USER_SCHEMA], "id": "1", "userName": "bjensen",
                   "name": {"givenName": "Barbara"}, "emails": [{"value": "b@x.test"}]})
        );
        let mut u = user();
        project(
            &mut u,
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            None,
        );
        assert_eq!(
            u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            json!({"department": "Sales"})
        );
    }

    #[test]
    fn excluded_attributes_drop_those_but_never_id() {
        let mut u = user();
        project(&mut u, None, Some("name.familyName,emails,id"));
        assert_eq!(u["name"], json!({"givenName": "Barbara"}));
        assert!(u.get("emails").is_none());
        assert_eq!(u["id"], "1");
    }

    #[test]
    fn long_lists_are_cut() {
        let list = vec!["userName"; 1_000_000].join(",");
        let mut u = user();
        let started = std::time::Instant::now();
        project(&mut u, Some(&list), Some(&list));
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        assert_eq!(u["userName"], "bjensen");
    }

    #[test]
    fn sorting_puts_missing_values_last_either_way() {
        let mut items = vec![
            json!({"name": {"familyName": "b"}}),
            json!({}),
            json!({"name": {"familyName": "A"}}),
        ];
        let by = SortBy::parse("name.familyName").unwrap();
        by.sort(&mut items, false);
        assert_eq!(items[0]["name"]["familyName"], "A");
        assert_eq!(items[2], json!({}));
        by.sort(&mut items, true);
        assert_eq!(items[0]["name"]["familyName"], "b");
        assert_eq!(items[2], json!({}));
        assert!(SortBy::parse("userName").unwrap().is_user_name());
        assert!(
            SortBy::parse(&format!("{USER_SCHEMA}:userName"))
                .unwrap()
                .is_user_name()
        );
        assert!(SortBy::parse("(").is_none());
    }
}
