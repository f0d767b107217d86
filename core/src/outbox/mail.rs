//! The messages Roster sends: subject, plain text and HTML for each kind, in the recipient's
//! language. Text comes from the Fluent bundles; the HTML is the same paragraphs, escaped.

use fluent_bundle::FluentValue;

use crate::i18n;
use crate::model::{Lang, escape_html as escape};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// One piece of a message body.
enum Part {
    Para(String),
    /// A quoted message from a person (kept as typed, escaped, line breaks kept).
    Quote(String),
    Link(String),
    /// The sender's signature (their friendly name), after the letter's body.
    Signature(String),
}

fn t(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<(&str, FluentValue<'_>)> = args
        .iter()
        .map(|(k, v)| (*k, FluentValue::from(*v)))
        .collect();
    i18n::t_args(lang, id, &args)
}

fn compose(lang: Lang, subject: String, parts: Vec<Part>) -> Rendered {
    let mut text = String::new();
    let mut body = String::new();
    for part in &parts {
        match part {
            Part::Para(p) => {
                text.push_str(p);
                text.push_str("\n\n");
                body.push_str(&format!("<p>{}</p>\n", escape(p)));
            }
            Part::Quote(q) => {
                for line in q.lines() {
                    text.push_str("> ");
                    text.push_str(line);
                    text.push('\n');
                }
                text.push('\n');
                body.push_str(&format!(
                    "<blockquote>{}</blockquote>\n",
                    escape(q).replace('\n', "<br>\n")
                ));
            }
            Part::Signature(s) => {
                text.push_str(&format!("— {s}\n\n"));
                body.push_str(&format!("<p>— {}</p>\n", escape(s)));
            }
            Part::Link(url) => {
                text.push_str(url);
                text.push_str("\n\n");
                body.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>\n", escape(url)));
            }
        }
    }
    let footer = i18n::t(lang, "mail-footer");
    text.push_str("-- \n");
    text.push_str(&footer);
    text.push('\n');
    let html = format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{}<hr>\n<p><small>{}</small></p>\n</body></html>\n",
        lang.code(),
        escape(&subject),
        body,
        escape(&footer)
    );
    Rendered {
        subject,
        text,
        html,
    }
}

/// The invitation: who invites, their personal message, the one-time link, and the inviter's
/// friendly name as the signature (none when they have none).
pub fn invitation(
    lang: Lang,
    name: &str,
    inviter: &str,
    signature: &str,
    message: &str,
    link: &str,
    expires: &str,
) -> Rendered {
    let mut parts = vec![
        Part::Para(t(lang, "mail-greeting", &[("name", name)])),
        Part::Para(t(lang, "mail-invitation-intro", &[("inviter", inviter)])),
    ];
    if !message.trim().is_empty() {
        parts.push(Part::Para(t(
            lang,
            "mail-invitation-message",
            &[("inviter", inviter)],
        )));
        parts.push(Part::Quote(message.to_string()));
    }
    parts.push(Part::Para(t(lang, "mail-invitation-action", &[])));
    parts.push(Part::Link(link.to_string()));
    parts.push(Part::Para(t(
        lang,
        "mail-link-expiry",
        &[("expires", expires)],
    )));
    if !signature.trim().is_empty() {
        parts.push(Part::Signature(signature.trim().to_string()));
    }
    parts.push(Part::Para(t(lang, "mail-ignore", &[])));
    compose(
        lang,
        t(lang, "mail-invitation-subject", &[("inviter", inviter)]),
        parts,
    )
}

/// The notice that an administrator set the user's password (never the password itself).
pub fn password_set_by_admin(lang: Lang, name: &str, by: &str) -> Rendered {
    let parts = vec![
        Part::Para(t(lang, "mail-greeting", &[("name", name)])),
        Part::Para(t(lang, "mail-password-set-body", &[("by", by)])),
        Part::Para(t(lang, "mail-password-set-unexpected", &[])),
    ];
    compose(lang, t(lang, "mail-password-set-subject", &[]), parts)
}

/// The notice that the user's password was changed (by themself, from their toolbox).
pub fn password_changed(lang: Lang, name: &str) -> Rendered {
    let parts = vec![
        Part::Para(t(lang, "mail-greeting", &[("name", name)])),
        Part::Para(t(lang, "mail-password-changed-body", &[])),
        Part::Para(t(lang, "mail-password-set-unexpected", &[])),
    ];
    compose(lang, t(lang, "mail-password-changed-subject", &[]), parts)
}

/// The notice to the old address that the organization's directory (an identity provider,
/// over SCIM) set a new one.
pub fn email_changed(lang: Lang, name: &str, new: &str, by: &str) -> Rendered {
    let parts = vec![
        Part::Para(t(lang, "mail-greeting", &[("name", name)])),
        Part::Para(t(
            lang,
            "mail-email-changed-body",
            &[("new", new), ("by", by)],
        )),
        Part::Para(t(lang, "mail-email-changed-unexpected", &[])),
    ];
    compose(lang, t(lang, "mail-email-changed-subject", &[]), parts)
}

/// The user's second factors changed: one added or removed, new recovery codes, or all reset
/// by an administrator (`change`: added, removed, recovery, reset).
pub fn mfa_changed(lang: Lang, name: &str, change: &str, factor: &str) -> Rendered {
    let change = match change {
        "added" | "removed" | "recovery" | "reset" => change,
        _ => "added",
    };
    let factor = t(lang, &format!("mfa-kind-{factor}"), &[]);
    let parts = vec![
        Part::Para(t(lang, "mail-greeting", &[("name", name)])),
        Part::Para(t(
            lang,
            &format!("mail-mfa-{change}-body"),
            &[("factor", factor.as_str())],
        )),
        Part::Para(t(lang, "mail-password-set-unexpected", &[])),
    ];
    compose(lang, t(lang, "mail-mfa-subject", &[]), parts)
}

/// A password reset link (asked for on the sign-in page).
pub fn password_reset(lang: Lang, name: &str, link: &str, expires: &str) -> Rendered {
    let parts = vec![
        Part::Para(t(lang, "mail-greeting", &[("name", name)])),
        Part::Para(t(lang, "mail-reset-intro", &[])),
        Part::Link(link.to_string()),
        Part::Para(t(lang, "mail-link-expiry", &[("expires", expires)])),
        Part::Para(t(lang, "mail-reset-ignore", &[])),
    ];
    compose(lang, t(lang, "mail-reset-subject", &[]), parts)
}

/// To the new address: confirm it to make it the user's address.
pub fn email_verify(lang: Lang, name: &str, new: &str, link: &str, expires: &str) -> Rendered {
    let parts = vec![
        Part::Para(t(lang, "mail-greeting", &[("name", name)])),
        Part::Para(t(lang, "mail-verify-intro", &[("email", new)])),
        Part::Link(link.to_string()),
        Part::Para(t(lang, "mail-link-expiry", &[("expires", expires)])),
        Part::Para(t(lang, "mail-ignore", &[])),
    ];
    compose(lang, t(lang, "mail-verify-subject", &[]), parts)
}

/// To an alias being added: confirm it to use the services through the user.
pub fn alias_verify(lang: Lang, name: &str, address: &str, link: &str, expires: &str) -> Rendered {
    let parts = vec![
        Part::Para(t(lang, "mail-greeting", &[("name", name)])),
        Part::Para(t(lang, "mail-alias-intro", &[("email", address)])),
        Part::Link(link.to_string()),
        Part::Para(t(lang, "mail-link-expiry", &[("expires", expires)])),
        Part::Para(t(lang, "mail-ignore", &[])),
    ];
    compose(lang, t(lang, "mail-alias-subject", &[]), parts)
}

/// To the old address: the change is coming, and how to stop it.
pub fn email_change_notice(
    lang: Lang,
    name: &str,
    new: &str,
    link: &str,
    expires: &str,
) -> Rendered {
    let parts = vec![
        Part::Para(t(lang, "mail-greeting", &[("name", name)])),
        Part::Para(t(lang, "mail-notice-intro", &[("email", new)])),
        Part::Para(t(lang, "mail-notice-cancel", &[])),
        Part::Link(link.to_string()),
        Part::Para(t(lang, "mail-link-expiry", &[("expires", expires)])),
    ];
    compose(lang, t(lang, "mail-notice-subject", &[]), parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_messages_are_escaped_in_html_and_kept_in_text() {
        let m = invitation(
            Lang::En,
            "Nina",
            "Olga",
            "Olga <Sales>",
            "<script>alert(1)</script>\nsecond line",
            "https://r.test/invitation?token=x&y",
            "2026-12-02 10:00 UTC",
        );
        assert!(m.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;<br>"));
        assert!(!m.html.contains("<script>"));
        assert!(
            m.text
                .contains("> <script>alert(1)</script>\n> second line")
        );
        assert!(
            m.html
                .contains("href=\"https://r.test/invitation?token=x&amp;y\"")
        );
        assert_eq!(m.subject, "Olga invites you to Roster");
        // The inviter's friendly name signs the letter, escaped like everything else.
        assert!(m.text.contains("\n— Olga <Sales>\n"));
        assert!(m.html.contains("<p>— Olga &lt;Sales&gt;</p>"));
        let unsigned = invitation(Lang::En, "Nina", "Olga", " ", "", "https://r.test/l", "x");
        assert!(!unsigned.text.contains('—'));
    }

    #[test]
    fn every_kind_exists_in_every_language() {
        for lang in Lang::ALL {
            let a = invitation(lang, "N", "O", "", "hi", "https://r.test/l", "x");
            let b = password_set_by_admin(lang, "N", "O");
            let c = password_reset(lang, "N", "https://r.test/l", "x");
            let d = email_verify(lang, "N", "n@x.test", "https://r.test/l", "x");
            let e = email_change_notice(lang, "N", "n@x.test", "https://r.test/l", "x");
            let f = password_changed(lang, "N");
            for m in [a, b, c, d, e, f] {
                assert!(
                    !m.subject.starts_with("mail-"),
                    "{} {}",
                    lang.code(),
                    m.subject
                );
                assert!(!m.text.contains("mail-"), "{} {}", lang.code(), m.text);
            }
        }
    }
}
