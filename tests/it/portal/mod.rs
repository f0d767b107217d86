//! Portal tests for accounts, units and users: who may do what, bad input, and the flows.

mod matrix;
mod toolbox;
mod users;
