pub mod change_password;
pub mod links;
pub mod reauth;
pub mod setup;
pub mod sign_in;
pub mod sign_out;
