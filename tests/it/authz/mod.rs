//! Authorization from outside: the attacks a hostile tenant tries, and the rank matrix (every
//! write route × every kind of actor × every rank of target).

mod abuse;
mod atomic;
mod attacks;
mod credentials;
mod rank;
