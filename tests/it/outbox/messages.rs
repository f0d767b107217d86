//! Every message in every language, compared with its committed snapshot.

/// Every message kind in every language, compared with the files under `tests/it/snapshots/`.
/// A missing file is written (outside CI) for review and commit; a changed text fails.
#[test]
fn snapshots_of_every_message_in_every_language() {
    use roster_core::model::Lang;
    use roster_core::outbox::mail;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots/mail");
    std::fs::create_dir_all(&dir).unwrap();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut problems = vec![];
    for lang in Lang::ALL {
        let messages = [
            (
                "invitation",
                mail::invitation(
                    lang,
                    "Nina New",
                    "Olga Operator",
                    "Olga, customer success at Example",
                    "Welcome!\nSee you <soon>.",
                    "https://portal.example.com/invitation?token=TOKEN",
                    "2026-12-02 10:00 UTC",
                ),
            ),
            (
                "mfa-changed",
                mail::mfa_changed(lang, "Nina New", "added", "totp"),
            ),
            (
                "mfa-reset",
                mail::mfa_changed(lang, "Nina New", "reset", ""),
            ),
            (
                "password-set-by-admin",
                mail::password_set_by_admin(lang, "Nina New", "Olga Operator"),
            ),
            (
                "password-reset",
                mail::password_reset(
                    lang,
                    "Nina New",
                    "https://portal.example.com/reset/confirm?token=TOKEN",
                    "2026-12-02 10:00 UTC",
                ),
            ),
            (
                "email-verify",
                mail::email_verify(
                    lang,
                    "Nina New",
                    "nina@new.example",
                    "https://portal.example.com/email/confirm?token=TOKEN",
                    "2026-12-02 10:00 UTC",
                ),
            ),
            (
                "email-change-notice",
                mail::email_change_notice(
                    lang,
                    "Nina New",
                    "nina@new.example",
                    "https://portal.example.com/email/cancel?token=TOKEN",
                    "2026-12-02 10:00 UTC",
                ),
            ),
            (
                "alias-verify",
                mail::alias_verify(
                    lang,
                    "Nina New",
                    "nina@home.example",
                    "https://portal.example.com/alias/confirm?token=TOKEN",
                    "2026-12-02 10:00 UTC",
                ),
            ),
            (
                "email-changed",
                mail::email_changed(lang, "Nina New", "nina@new.example", "Okta"),
            ),
        ];
        for (kind, m) in messages {
            let text = format!(
                "Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}",
                m.subject, m.text, m.html
            );
            let path = dir.join(format!("{kind}.{}.txt", lang.code()));
            match std::fs::read_to_string(&path) {
                Ok(expected) if expected == text => {}
                Ok(_) => problems.push(format!("{} changed", path.display())),
                Err(_) if !ci => std::fs::write(&path, &text).unwrap(),
                Err(_) => problems.push(format!("{} is missing", path.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{problems:?}");
}
