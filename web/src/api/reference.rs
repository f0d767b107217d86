//! `/api/v1/docs`: a reference page built from the OpenAPI document, with nothing fetched from
//! elsewhere.

use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::shape;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The reference page: every operation with its parameters and answers, from the document.
pub async fn page(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
) -> Response {
    let doc = shape::document_of(&state.ctx.settings.catalog);
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Roster API reference</title><link rel=\"stylesheet\" href=\"/static/roster.css\">\
         </head><body><main id=\"main\" class=\"api-docs\"><h1>Roster API reference</h1>",
    );
    if let Some(d) = doc["info"]["description"].as_str() {
        html.push_str(&format!("<p>{}</p>", esc(d)));
    }
    html.push_str("<p><a href=\"/api/v1/openapi.json\">OpenAPI 3.1 document</a></p>");
    if let Some(paths) = doc["paths"].as_object() {
        for (path, ops) in paths {
            let Some(ops) = ops.as_object() else { continue };
            for (method, op) in ops {
                html.push_str(&format!(
                    "<section class=\"card\"><h2><code>{} {}</code></h2>",
                    method.to_uppercase(),
                    esc(path)
                ));
                if let Some(d) = op["description"].as_str().or(op["summary"].as_str()) {
                    html.push_str(&format!("<p>{}</p>", esc(d)));
                }
                if let Some(params) = op["parameters"].as_array() {
                    html.push_str("<h3>Parameters</h3><ul>");
                    for p in params {
                        let need = if p["required"] == true {
                            ", <strong>required</strong>"
                        } else {
                            ""
                        };
                        html.push_str(&format!(
                            "<li><code>{}</code> ({}{need}) {}</li>",
                            esc(p["name"].as_str().unwrap_or("")),
                            esc(p["in"].as_str().unwrap_or("")),
                            esc(p["description"].as_str().unwrap_or(""))
                        ));
                    }
                    html.push_str("</ul>");
                }
                if let Some(body) =
                    op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
                {
                    let name = body.rsplit('/').next().unwrap_or(body);
                    html.push_str(&format!(
                        "<p>Body: <a href=\"#schema-{0}\"><code>{0}</code></a></p>",
                        esc(name)
                    ));
                }
                if let Some(responses) = op["responses"].as_object() {
                    // One line: the statuses, each with its body's schema when it has one.
                    let answers: Vec<String> = responses
                        .iter()
                        .map(|(status, r)| {
                            let body = r["content"]["application/json"]["schema"]["$ref"]
                                .as_str()
                                .and_then(|b| b.rsplit('/').next())
                                .filter(|b| *b != "ErrorBody");
                            match body {
                                Some(b) => format!(
                                    "<code>{}</code> <a href=\"#schema-{1}\"><code>{1}</code></a>",
                                    esc(status),
                                    esc(b)
                                ),
                                None => format!("<code>{}</code>", esc(status)),
                            }
                        })
                        .collect();
                    html.push_str(&format!(
                        "<p><strong>Answers</strong> {}</p>",
                        answers.join(" · ")
                    ));
                }
                html.push_str("</section>");
            }
        }
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        html.push_str("<h2>Schemas</h2>");
        for (name, schema) in schemas {
            html.push_str(&format!(
                "<section class=\"card\" id=\"schema-{0}\"><h3><code>{0}</code></h3>",
                esc(name)
            ));
            if let Some(d) = schema["description"].as_str() {
                html.push_str(&format!("<p>{}</p>", esc(d)));
            }
            match schema["oneOf"].as_array() {
                // A body whose required fields depend on its kind: one list per kind.
                Some(kinds) => {
                    for kind in kinds {
                        html.push_str(&format!(
                            "<h4>{}</h4>",
                            esc(kind["title"].as_str().unwrap_or(""))
                        ));
                        html.push_str(&facts(kind));
                    }
                }
                None => html.push_str(&facts(schema)),
            }
            html.push_str("</section>");
        }
    }
    html.push_str("</main></body></html>");
    Html(html).into_response()
}

/// An object's fields: name, whether required, type, values or format, description.
fn facts(schema: &Value) -> String {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut html = String::from("<dl class=\"facts\">");
    if let Some(props) = schema["properties"].as_object() {
        for (field, p) in props {
            let mut kind = type_of(p);
            if let Some(values) = p["enum"].as_array() {
                let values: Vec<String> = values
                    .iter()
                    .map(|v| match v {
                        Value::String(s) if s.is_empty() => "\"\"".to_string(),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                kind = format!("one of {}", values.join(", "));
            } else if let Some(f) = p["format"].as_str() {
                kind = format!("{kind}, {f}");
            }
            if let Some(max) = p["maximum"].as_i64() {
                kind = format!("{kind}, {}–{max}", p["minimum"].as_i64().unwrap_or(0));
            }
            let need = if required.contains(&field.as_str()) {
                " <strong>required</strong>"
            } else {
                ""
            };
            html.push_str(&format!(
                "<dt><code>{}</code>{need} <span class=\"muted\">{}</span></dt><dd>{}</dd>",
                esc(field),
                esc(&kind),
                esc(p["description"].as_str().unwrap_or(""))
            ));
        }
    }
    html.push_str("</dl>");
    html
}

fn type_of(p: &Value) -> String {
    match &p["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => match (p["$ref"].as_str(), p["anyOf"].as_array()) {
            (Some(r), _) => r.rsplit('/').next().unwrap_or(r).to_string(),
            (None, Some(options)) => options.iter().map(type_of).collect::<Vec<_>>().join(" | "),
            _ => String::new(),
        },
    }
}
