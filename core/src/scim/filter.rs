//! The SCIM filter language (RFC 7644 §3.4.2.2): parsing, printing, and evaluation against a
//! resource's JSON. Attribute names are case-insensitive; string comparisons are too, as for
//! `caseExact: false` attributes (every attribute Roster maps).
//!
//! ```text
//! filter    = or
//! or        = and *("or" and)
//! and       = not *("and" not)
//! not       = "not" "(" filter ")" / atom
//! atom      = "(" filter ")" / path "pr" / path op value / path "[" filter "]" ["." sub]
//! op        = eq ne co sw ew gt ge lt le
//! value     = false / null / true / number / string (JSON)
//! path      = [schema-uri ":"] name ["." sub]
//! ```

use std::fmt;

use serde_json::Value;

/// Filters nest at most this deep (a bound against stack exhaustion).
const MAX_DEPTH: usize = 32;
/// A filter holds at most this many comparisons and operators together, so that evaluating,
/// printing and dropping it stay small whatever was sent (a long `or` chain is a deep tree).
pub const MAX_TERMS: usize = 100;
/// The longest filter text read, in bytes.
pub const MAX_LEN: usize = 8 * 1024;

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare(AttrPath, Op, CompValue),
    /// `emails[type eq "work"]`, optionally followed by `.value` … as in `emails[…].value` is
    /// not allowed in filters; the sub-filter applies to each element of a multi-valued attribute.
    ValuePath(AttrPath, Box<Filter>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URI, when the attribute was written fully qualified.
    pub uri: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub at: usize,
    pub what: &'static str,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at character {}", self.what, self.at)
    }
}

impl Op {
    fn parse(word: &str) -> Option<Op> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Co => "co",
            Op::Sw => "sw",
            Op::Ew => "ew",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
    /// Comparisons and operators read so far.
    terms: usize,
}

/// Parses a filter; any input gives a filter or an error, never a panic, in time and memory
/// bounded by `MAX_LEN` and `MAX_TERMS`.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    if text.len() > MAX_LEN {
        return Err(FilterError {
            at: MAX_LEN,
            what: "filter too long",
        });
    }
    let mut p = Parser {
        text,
        pos: 0,
        depth: 0,
        terms: 0,
    };
    let f = p.or()?;
    p.skip_space();
    if p.pos < p.text.len() {
        return Err(p.err("unexpected text"));
    }
    Ok(f)
}

impl<'a> Parser<'a> {
    fn err(&self, what: &'static str) -> FilterError {
        FilterError { at: self.pos, what }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start_matches([' ', '\t', '\n', '\r']);
        self.pos = self.text.len() - trimmed.len();
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat_char(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// A keyword (`and`, `or`, `not`, an operator) followed by a space or a bracket.
    fn peek_word(&self) -> &'a str {
        let rest = self.rest();
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        &rest[..end]
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        self.skip_space();
        // The word runs to the first character that cannot be part of it, so `orange` is not
        // `or`, while `pr)` and `not(` are keywords.
        let word = self.peek_word();
        if word.eq_ignore_ascii_case(kw) {
            self.pos += word.len();
            return true;
        }
        false
    }

    /// Counts one comparison or operator against `MAX_TERMS`.
    fn term(&mut self) -> Result<(), FilterError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.err("filter has too many terms"));
        }
        Ok(())
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, FilterError>,
    ) -> Result<T, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("filter nested too deep"));
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            self.term()?;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.not()?;
        while self.eat_keyword("and") {
            self.term()?;
            let right = self.not()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Filter, FilterError> {
        if self.eat_keyword("not") {
            self.term()?;
            if !self.eat_char('(') {
                return Err(self.err("expected ( after not"));
            }
            let inner = self.nested(|p| p.or())?;
            if !self.eat_char(')') {
                return Err(self.err("expected )"));
            }
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Filter, FilterError> {
        if self.eat_char('(') {
            let inner = self.nested(|p| p.or())?;
            if !self.eat_char(')') {
                return Err(self.err("expected )"));
            }
            return Ok(inner);
        }
        self.term()?;
        let path = self.path()?;
        if self.eat_char('[') {
            if path.sub.is_some() {
                return Err(self.err("a value filter needs a plain attribute"));
            }
            let inner = self.nested(|p| p.or())?;
            if !self.eat_char(']') {
                return Err(self.err("expected ]"));
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        self.skip_space();
        if self.eat_keyword("pr") {
            return Ok(Filter::Present(path));
        }
        let word = self.peek_word();
        let Some(op) = Op::parse(word) else {
            return Err(self.err("expected an operator"));
        };
        self.pos += word.len();
        let value = self.value()?;
        Ok(Filter::Compare(path, op, value))
    }

    fn path(&mut self) -> Result<AttrPath, FilterError> {
        self.skip_space();
        let rest = self.rest();
        let end = rest
            .find(|c: char| {
                !(c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-' | '$'))
            })
            .unwrap_or(rest.len());
        let raw = &rest[..end];
        if raw.is_empty() || !raw.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(self.err("expected an attribute name"));
        }
        self.pos += end;
        // A schema URI ends at its last ':'; the attribute follows.
        let (uri, attr) = match raw.rfind(':') {
            Some(i) => (Some(raw[..i].to_string()), &raw[i + 1..]),
            None => (None, raw),
        };
        let (name, sub) = match attr.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (attr, None),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
        };
        if !valid(name) || sub.is_some_and(|s| !valid(s)) {
            return Err(self.err("not a valid attribute name"));
        }
        Ok(AttrPath {
            uri,
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }

    fn value(&mut self) -> Result<CompValue, FilterError> {
        self.skip_space();
        let rest = self.rest();
        if rest.starts_with('"') {
            // A JSON string: find its end, honouring escapes.
            let bytes = rest.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => break,
                    _ => i += 1,
                }
            }
            if i >= bytes.len() {
                return Err(self.err("unterminated string"));
            }
            let literal = &rest[..=i];
            let s: String =
                serde_json::from_str(literal).map_err(|_| self.err("not a valid string"))?;
            self.pos += literal.len();
            return Ok(CompValue::String(s));
        }
        let word_end = rest
            .find([' ', '\t', '\n', '\r', ')', ']'])
            .unwrap_or(rest.len());
        let word = &rest[..word_end];
        let v = match word {
            "true" => CompValue::Bool(true),
            "false" => CompValue::Bool(false),
            "null" => CompValue::Null,
            _ => match serde_json::from_str::<Value>(word) {
                Ok(Value::Number(n)) => {
                    CompValue::Number(n.as_f64().ok_or(self.err("not a valid number"))?)
                }
                _ => return Err(self.err("expected a value")),
            },
        };
        self.pos += word.len();
        Ok(v)
    }
}

// ---------------------------------------------------------------------------------------------
// Printing: what `parse` reads back to the same filter.

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        write!(f, "{}", self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => {
                let v = serde_json::Number::from_f64(*n)
                    .map(Value::Number)
                    .unwrap_or(Value::Null);
                write!(f, "{v}")
            }
            CompValue::String(s) => write!(f, "{}", Value::String(s.clone())),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Or(a, b) => write!(f, "({a} or {b})"),
            Filter::And(a, b) => write!(f, "({a} and {b})"),
            Filter::Not(a) => write!(f, "not ({a})"),
            Filter::Present(p) => write!(f, "{p} pr"),
            Filter::Compare(p, op, v) => write!(f, "{p} {} {v}", op.as_str()),
            Filter::ValuePath(p, inner) => write!(f, "{p}[{inner}]"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation against a resource's JSON

fn get_ci<'v>(obj: &'v Value, name: &str) -> Option<&'v Value> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The values an attribute path names in a resource (several for multi-valued attributes).
fn values<'v>(resource: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    let base = match &path.uri {
        // Extension attributes live under their schema URI.
        Some(uri) if get_ci(resource, uri).is_some() => get_ci(resource, uri),
        _ => Some(resource),
    };
    let Some(top) = base.and_then(|b| get_ci(b, &path.name)) else {
        return vec![];
    };
    let items: Vec<&Value> = match top {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    match &path.sub {
        None => items
            .into_iter()
            .flat_map(|v| match v {
                // A multi-valued attribute without sub-attribute compares its "value"s.
                Value::Object(_) => get_ci(v, "value").into_iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .collect(),
        Some(sub) => items.into_iter().filter_map(|v| get_ci(v, sub)).collect(),
    }
}

fn compare(actual: &Value, op: Op, expected: &CompValue) -> bool {
    use std::cmp::Ordering;
    let ord = match (actual, expected) {
        (Value::String(a), CompValue::String(e)) => {
            let (a, e) = (a.to_lowercase(), e.to_lowercase());
            match op {
                Op::Co => return a.contains(&e),
                Op::Sw => return a.starts_with(&e),
                Op::Ew => return a.ends_with(&e),
                _ => a.cmp(&e),
            }
        }
        (Value::Bool(a), CompValue::Bool(e)) => match op {
            Op::Eq => return a == e,
            Op::Ne => return a != e,
            _ => return false,
        },
        (Value::Number(a), CompValue::Number(e)) => {
            match a.as_f64().and_then(|a| a.partial_cmp(e)) {
                Some(o) => o,
                None => return false,
            }
        }
        (Value::Null, CompValue::Null) => Ordering::Equal,
        _ => return op == Op::Ne,
    };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Co | Op::Sw | Op::Ew => false,
    }
}

impl Filter {
    /// Whether a resource (its SCIM JSON) matches.
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Not(a) => !a.matches(resource),
            Filter::Present(p) => values(resource, p).iter().any(|v| match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => true,
            }),
            Filter::Compare(p, Op::Ne, v) => {
                !values(resource, p).iter().any(|a| compare(a, Op::Eq, v))
            }
            Filter::Compare(p, op, v) => values(resource, p).iter().any(|a| compare(a, *op, v)),
            Filter::ValuePath(p, inner) => {
                let base = match &p.uri {
                    Some(uri) if get_ci(resource, uri).is_some() => get_ci(resource, uri),
                    _ => Some(resource),
                };
                match base.and_then(|b| get_ci(b, &p.name)) {
                    Some(Value::Array(items)) => items.iter().any(|i| inner.matches(i)),
                    Some(v @ Value::Object(_)) => inner.matches(v),
                    _ => false,
                }
            }
        }
    }

    /// The part of the filter an index answers: `userName eq`, `userName sw` or `externalId eq`,
    /// alone or as one side of an `and`. `exact` says the filter is that part alone (so the index
    /// answers it whole, count and page included); otherwise the whole filter is still applied
    /// to what the index finds.
    pub fn index_hint(&self) -> Option<IndexHint<'_>> {
        match self {
            Filter::Compare(p, op, CompValue::String(s))
                if p.sub.is_none()
                    && p.uri.as_deref().is_none_or(|u| {
                        u.eq_ignore_ascii_case("urn:ietf:params:scim:schemas:core:2.0:User")
                    }) =>
            {
                let lookup = match (p.name.to_ascii_lowercase().as_str(), op) {
                    ("username", Op::Eq) => Lookup::UserNameEq(s),
                    ("username", Op::Sw) => Lookup::UserNameSw(s),
                    ("externalid", Op::Eq) => Lookup::ExternalIdEq(s),
                    _ => return None,
                };
                Some(IndexHint {
                    lookup,
                    exact: true,
                })
            }
            Filter::And(a, b) => a
                .index_hint()
                .or_else(|| b.index_hint())
                .map(|h| IndexHint {
                    lookup: h.lookup,
                    exact: false,
                }),
            _ => None,
        }
    }
}

/// An indexed lookup a filter starts from (see [`Filter::index_hint`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup<'f> {
    UserNameEq(&'f str),
    UserNameSw(&'f str),
    ExternalIdEq(&'f str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexHint<'f> {
    pub lookup: Lookup<'f>,
    pub exact: bool,
}

#[cfg(test)]
mod tests;
