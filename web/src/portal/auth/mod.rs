pub mod setup;
pub mod sign_in;
pub mod sign_out;
