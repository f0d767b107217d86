//! Every route of the portal in one readable list.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::portal::{
    account, auth, deliveries, devices, home, language, log_export, logs, management, mfa,
    resources, statistics, tokens, toolbox, units, users,
};
use crate::state::AppState;
use crate::{assets, middleware, ops};

pub fn router(state: AppState) -> Router {
    let portal = Router::new()
        .route("/", get(home::show_home))
        .route(
            "/signin",
            get(auth::sign_in::show_sign_in).post(auth::sign_in::sign_in),
        )
        .route("/signout", post(auth::sign_out::sign_out))
        .route(
            "/setup",
            get(auth::setup::show_setup).post(auth::setup::complete_setup),
        )
        .route("/language", post(language::change_language))
        .route(
            "/invitation",
            get(auth::links::show_invitation).post(auth::links::accept_invitation),
        )
        .route(
            "/reset",
            get(auth::links::show_reset_request).post(auth::links::request_reset),
        )
        .route(
            "/reset/confirm",
            get(auth::links::show_reset).post(auth::links::complete_reset),
        )
        .route(
            "/email/confirm",
            get(auth::links::show_email_confirm).post(auth::links::confirm_email),
        )
        .route(
            "/alias/confirm",
            get(auth::links::show_alias_confirm).post(auth::links::confirm_alias),
        )
        .route(
            "/email/cancel",
            get(auth::links::show_email_cancel).post(auth::links::cancel_email),
        )
        .route(
            "/password",
            get(auth::change_password::show_change_password)
                .post(auth::change_password::change_password),
        )
        .route("/devices", get(devices::show_devices))
        .route("/users", get(users::list::list_users))
        .route(
            "/users/add",
            get(users::add::show_add_user).post(users::add::add_user),
        )
        .route("/users/{id}", get(users::page::show_user))
        .route("/users/{id}/logs", get(logs::show_user_logs))
        .route("/users/{id}/logs/stream", get(logs::stream_user_logs))
        .route("/users/{id}/logs.csv", get(log_export::export_user_logs))
        .route("/users/{id}/logs.jsonl", get(log_export::export_user_logs))
        .route("/nodes/{id}/logs", get(logs::show_node_logs))
        .route("/nodes/{id}/logs.csv", get(log_export::export_node_logs))
        .route("/nodes/{id}/logs.jsonl", get(log_export::export_node_logs))
        .route("/toolbox/logs.csv", get(log_export::export_own_logs))
        .route("/toolbox/logs.jsonl", get(log_export::export_own_logs))
        .route(
            "/users/{id}/statistics",
            get(statistics::show_user_statistics),
        )
        .route(
            "/users/{id}/statistics.csv",
            get(statistics::export_user_statistics),
        )
        .route(
            "/nodes/{id}/statistics",
            get(statistics::show_node_statistics),
        )
        .route(
            "/nodes/{id}/statistics.csv",
            get(statistics::export_node_statistics),
        )
        .route("/toolbox/statistics", get(statistics::show_own_statistics))
        .route(
            "/toolbox/statistics.csv",
            get(statistics::export_own_statistics),
        )
        .route(
            "/users/{id}/settings",
            post(users::sections::update_settings),
        )
        .route("/users/{id}/services", post(users::sections::set_services))
        .route("/users/{id}/move", post(users::sections::move_user))
        .route("/users/{id}/access", post(users::sections::add_access))
        .route(
            "/users/{id}/access/{subject}/remove",
            post(users::sections::remove_access),
        )
        .route("/users/{id}/aliases", post(users::addresses::add_alias))
        .route(
            "/users/{id}/aliases/{alias}/remove",
            post(users::addresses::remove_alias),
        )
        .route("/users/{id}/numbers", post(users::addresses::add_number))
        .route(
            "/users/{id}/numbers/{number}/remove",
            post(users::addresses::remove_number),
        )
        .route("/users/{id}/books", post(resources::create_user_book))
        .route("/nodes/{id}/books", post(resources::create_node_book))
        .route("/nodes/{id}/public", post(resources::add_public))
        .route("/public/{id}/remove", post(resources::remove_public))
        .route("/public/{id}/users", post(resources::allow_public_user))
        .route(
            "/public/{id}/users/{user}/remove",
            post(resources::disallow_public_user),
        )
        .route("/books/{id}", get(resources::show_book))
        .route("/books/{id}/contacts", post(resources::add_contact))
        .route(
            "/books/{id}/contacts/{contact}/remove",
            post(resources::remove_contact),
        )
        .route("/books/{id}/contacts.csv", get(resources::export))
        .route("/books/{id}/import", post(resources::import))
        .route("/books/{id}/delete", post(resources::delete_book))
        .route("/users/{id}/password", post(users::sections::set_password))
        .route("/users/{id}/notes", post(users::sections::set_notes))
        .route("/users/{id}/status", post(users::sections::set_status))
        .route(
            "/users/{id}/delete",
            get(users::sections::show_delete).post(users::sections::delete_user),
        )
        .route(
            "/users/{id}/photo",
            get(users::photo::serve_photo)
                .post(users::photo::upload_photo)
                .layer(DefaultBodyLimit::max(users::photo::PHOTO_BODY_LIMIT)),
        )
        .route("/users/{id}/photo/remove", post(users::photo::remove_photo))
        .route("/units", post(units::create_unit))
        .route("/units/{id}", get(units::show_unit))
        .route("/units/{id}/rename", post(units::rename_unit))
        .route("/units/{id}/move", post(units::move_unit))
        .route("/units/{id}/delete", post(units::delete_unit))
        .route("/nodes/{id}/admins", post(units::add_admin))
        .route(
            "/nodes/{id}/admins/{subject}/remove",
            post(units::remove_admin),
        )
        .route("/account", get(account::show_account))
        .route("/account/{id}", post(account::update_account))
        .route(
            "/account/{id}/administered",
            post(account::set_administered),
        )
        .route("/management", get(management::show_management))
        .route("/management/accounts", post(account::create_account))
        .route("/management/deliveries", get(deliveries::show_deliveries))
        .route(
            "/management/deliveries/{id}/resend",
            post(deliveries::resend_delivery),
        )
        .route(
            "/users/{id}/invitation",
            post(users::sections::resend_invitation),
        )
        .route("/users/{id}/email", post(users::sections::change_email))
        .route(
            "/reauth",
            get(auth::reauth::show_reauth).post(auth::reauth::reauth),
        )
        .route("/toolbox", get(toolbox::show_own_toolbox))
        .route("/toolbox/logs", get(logs::show_own_logs))
        .route("/toolbox/logs/stream", get(logs::stream_own_logs))
        .route("/toolbox/profile", post(toolbox::update_profile))
        .route("/toolbox/password", post(toolbox::change_password))
        .route("/toolbox/email", post(toolbox::change_email))
        .route("/toolbox/phone/send-code", post(toolbox::send_phone_code))
        .route("/toolbox/phone/verify", post(toolbox::verify_phone))
        .route(
            "/toolbox/sessions/end-others",
            post(toolbox::end_other_sessions),
        )
        .route(
            "/toolbox/sessions/{session}/end",
            post(toolbox::end_session),
        )
        .route("/users/{id}/toolbox", get(toolbox::show_user_toolbox))
        // Second factors: the second step of sign-in, enrolment, the toolbox, administrators.
        .route("/signin/verify", get(mfa::show_verify).post(mfa::verify))
        .route("/signin/verify/sms", post(mfa::send_sms))
        .route(
            "/signin/passkey/options",
            post(mfa::passkey_sign_in_options),
        )
        .route("/mfa/enrol", get(mfa::show_enrol))
        .route("/mfa/enrol/phone", post(mfa::enrol_phone))
        .route("/mfa/enrol/phone/send", post(mfa::enrol_send_code))
        .route("/mfa/enrol/phone/verify", post(mfa::enrol_verify_phone))
        .route("/mfa/enrol/done", post(mfa::finish_enrolment))
        .route("/toolbox/factors/totp", post(mfa::start_totp))
        .route(
            "/toolbox/factors/totp/{id}",
            get(mfa::show_totp).post(mfa::confirm_totp),
        )
        .route("/toolbox/factors/sms", post(mfa::add_sms))
        .route("/toolbox/factors/passkey", post(mfa::add_passkey))
        .route(
            "/toolbox/factors/passkey/options",
            post(mfa::passkey_options),
        )
        .route("/toolbox/factors/recovery", post(mfa::new_recovery_codes))
        .route("/toolbox/factors/{id}/rename", post(mfa::rename_factor))
        .route("/toolbox/factors/{id}/remove", post(mfa::remove_factor))
        .route("/users/{id}/mfa/reset", post(mfa::reset_factors))
        .route("/nodes/{id}/mfa", post(mfa::set_policy))
        .route(
            "/nodes/{id}/settings/{service}",
            post(crate::portal::settings::set_node_settings),
        )
        .route(
            "/users/{id}/settings/{service}",
            post(crate::portal::settings::set_user_settings),
        )
        // API tokens: one's own, a system user's, and revocation.
        .route("/toolbox/tokens", post(tokens::create_own))
        .route("/users/{id}/tokens", post(tokens::create_for_user))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .fallback(ops::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::resolve_session,
        ));

    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/static/{name}", get(assets::serve_asset))
        .route("/favicon.ico", get(assets::serve_favicon))
        .merge(portal)
        .merge(crate::api::router(state.clone()))
        .merge(crate::scim::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(axum::middleware::from_fn(middleware::trace_request))
        .with_state(state)
}
