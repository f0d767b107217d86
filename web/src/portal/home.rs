use axum::response::Response;

use crate::extract::MaybeActor;
use crate::page::redirect;

/// `/`: administrators start on Users, everyone else in their toolbox; signed-out to sign-in.
pub async fn show_home(MaybeActor(actor): MaybeActor) -> Response {
    match actor {
        Some(a) if a.is_administrator() => redirect("/users"),
        Some(_) => redirect("/toolbox"),
        None => redirect("/signin"),
    }
}
