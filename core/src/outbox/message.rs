//! Every message Roster sends, as one type. A message's kind (the outbox row's `kind`, also the
//! name of its templates) and its payload are derived from it: [`enqueue`] writes it in the
//! caller's transaction, and the worker reads it back with [`Message::from_row`] and matches on
//! it — so a kind is never spelled twice, and a payload never lacks a field its template uses.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::Result;
use crate::model::Timestamp;
use crate::store::{self, Ex};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Message {
    /// The invitation with its one-time link (minted when it is sent).
    Invitation {
        inviter: String,
        /// The inviter's friendly name, signing the message ("" for none).
        #[serde(default)]
        signature: String,
    },
    /// Someone else set the user's password (never the password itself).
    PasswordSetByAdmin { by: String },
    /// The user changed their own password.
    PasswordChanged,
    /// A reset link (minted when it is sent).
    PasswordReset,
    /// To the new address of a change: the link that confirms it.
    EmailVerify { new: String, by: String },
    /// To the old address of a change: what is about to happen, and a link that cancels it.
    EmailChangeNotice { new: String, by: String },
    /// To the old address after the directory changed it.
    EmailChanged { new: String, by: String },
    /// To an alias being added: the link that confirms it (minted when it is sent).
    AliasVerify {
        alias: String,
        address: String,
        by: String,
    },
    /// A second factor was added, removed or reset, or new recovery codes were made.
    MfaChanged { change: String, factor: String },
    /// By SMS: the code that verifies a number (drawn when it is sent).
    PhoneVerify,
    /// By SMS: a sign-in code for one sign-in attempt (drawn when it is sent).
    SignInCode { attempt: String },
}

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Email,
    Sms,
}

impl Message {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Message::Invitation { .. } => "invitation",
            Message::PasswordSetByAdmin { .. } => "password-set-by-admin",
            Message::PasswordChanged => "password-changed",
            Message::PasswordReset => "password-reset",
            Message::EmailVerify { .. } => "email-verify",
            Message::EmailChangeNotice { .. } => "email-change-notice",
            Message::EmailChanged { .. } => "email-changed",
            Message::AliasVerify { .. } => "alias-verify",
            Message::MfaChanged { .. } => "mfa-changed",
            Message::PhoneVerify => "phone-verify",
            Message::SignInCode { .. } => "sign-in-code",
        }
    }

    pub(crate) fn channel(&self) -> Channel {
        match self {
            Message::PhoneVerify | Message::SignInCode { .. } => Channel::Sms,
            _ => Channel::Email,
        }
    }

    /// The row's payload: the message's fields (its kind is the row's own column).
    fn payload(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.remove("kind");
        }
        v.to_string()
    }

    /// A message read back from its row; None for a kind this version does not know.
    pub(crate) fn from_row(kind: &str, payload: &str) -> Option<Message> {
        let mut v: Value =
            serde_json::from_str(payload).unwrap_or_else(|_| Value::Object(Default::default()));
        v.as_object_mut()?
            .insert("kind".into(), Value::String(kind.into()));
        serde_json::from_value(v).ok()
    }
}

/// Queues a message to `to` about `user` (of `node`) in the caller's transaction: it is sent
/// only if the change commits.
pub(crate) async fn enqueue(
    ex: Ex<'_>,
    message: &Message,
    to: &str,
    user: Uuid,
    node: Uuid,
    now: Timestamp,
) -> Result<()> {
    let channel = match message.channel() {
        Channel::Email => "email",
        Channel::Sms => "sms",
    };
    store::outbox::enqueue(
        ex,
        channel,
        message.kind(),
        to,
        Some(user),
        Some(node),
        &message.payload(),
        now.millis(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_payloads_round_trip() {
        for m in [
            Message::Invitation {
                inviter: "Olga".into(),
                signature: "Olga, Sales".into(),
            },
            Message::PasswordSetByAdmin { by: "A".into() },
            Message::PasswordChanged,
            Message::PasswordReset,
            Message::EmailVerify {
                new: "n@x.test".into(),
                by: "B".into(),
            },
            Message::EmailChangeNotice {
                new: "n@x.test".into(),
                by: "B".into(),
            },
            Message::EmailChanged {
                new: "n@x.test".into(),
                by: "B".into(),
            },
            Message::AliasVerify {
                alias: "a".into(),
                address: "n@x.test".into(),
                by: "B".into(),
            },
            Message::MfaChanged {
                change: "added".into(),
                factor: "totp".into(),
            },
            Message::PhoneVerify,
            Message::SignInCode {
                attempt: "x".into(),
            },
        ] {
            assert_eq!(
                Message::from_row(m.kind(), &m.payload()).as_ref(),
                Some(&m),
                "{}",
                m.kind()
            );
        }
        // Rows written before this type carried the user's id too, and no signature: still read.
        assert_eq!(
            Message::from_row("invitation", r#"{"user": "u", "inviter": "Olga"}"#),
            Some(Message::Invitation {
                inviter: "Olga".into(),
                signature: String::new(),
            })
        );
        assert_eq!(Message::from_row("no-such-kind", "{}"), None);
    }
}
