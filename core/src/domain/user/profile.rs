//! The profile fields that Add user and the Settings section share, checked by one function.

use crate::error::Problems;
use crate::model::{Lang, UserType, parse_line, phone};
use crate::store::user::UserRow;

/// Name, role, language, country, phone, invoices and notifications, as typed.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub first_name: String,
    pub last_name: String,
    pub user_type: String,
    pub language: String,
    pub country_code: String,
    pub phone_country: String,
    pub phone_number: String,
    pub receive_invoices: bool,
    pub notifications_enabled: bool,
    pub notify_email: bool,
    pub notify_sms: bool,
}

/// The same fields, checked.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub language: Lang,
    pub country_code: String,
    pub phone: Option<String>,
    pub receive_invoices: bool,
    pub notifications_enabled: bool,
    pub notify_email: bool,
    pub notify_sms: bool,
}

impl ProfileInput {
    /// Checks every field, recording each problem on its field. A system user is never an
    /// Administrator and never receives invoices.
    pub(crate) fn check(&self, p: &mut Problems, system: bool) -> Profile {
        let first_name = p
            .check(parse_line("first_name", &self.first_name, 100))
            .unwrap_or_default();
        let last_name = p
            .check(parse_line("last_name", &self.last_name, 100))
            .unwrap_or_default();
        let user_type = match (UserType::parse(&self.user_type), system) {
            (None, _) => {
                p.add("user_type", "field-role-invalid");
                UserType::User
            }
            (Some(UserType::Administrator), true) => {
                p.add("user_type", "system-not-administrator");
                UserType::User
            }
            (Some(t), _) => t,
        };
        let language = Lang::parse(&self.language).unwrap_or_else(|| {
            p.add("language", "field-language-invalid");
            Lang::En
        });
        let country_code = p
            .check(phone::parse_country("country_code", &self.country_code))
            .unwrap_or_default();
        let phone = p
            .check(phone::parse_phone(
                "phone_number",
                &self.phone_country,
                &self.phone_number,
            ))
            .flatten();
        if self.receive_invoices && user_type != UserType::Administrator {
            p.add("receive_invoices", "invoices-need-administrator");
        }
        if self.notifications_enabled && !self.notify_email && !self.notify_sms {
            p.add("notify", "notify-channel-required");
        }
        if self.notifications_enabled && self.notify_sms && phone.is_none() {
            p.add("phone_number", "notify-sms-needs-phone");
        }
        Profile {
            first_name,
            last_name,
            user_type,
            language,
            country_code,
            phone,
            receive_invoices: self.receive_invoices,
            notifications_enabled: self.notifications_enabled,
            notify_email: self.notifications_enabled && self.notify_email,
            notify_sms: self.notifications_enabled && self.notify_sms,
        }
    }
}

impl Profile {
    /// Writes the checked fields into a user row (and what follows from them).
    pub(crate) fn apply(&self, row: &mut UserRow) {
        row.first_name = self.first_name.clone();
        row.last_name = self.last_name.clone();
        let fallback = row.email.clone().or(row.login.clone()).unwrap_or_default();
        row.sort_name = super::sort_name(&self.first_name, &self.last_name, &fallback);
        row.user_type = self.user_type.as_str().into();
        row.language = self.language.code().into();
        row.country_code = self.country_code.clone();
        row.phone = self.phone.clone();
        row.receive_invoices = self.receive_invoices;
        row.notifications_enabled = self.notifications_enabled;
        row.notify_email = self.notify_email;
        row.notify_sms = self.notify_sms;
    }
}
