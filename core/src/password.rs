//! Password hashing (argon2id) and the rules a new password must meet.

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use std::sync::Mutex;

use crate::error::{Error, Result};

/// argon2id cost. Production uses the OWASP parameters; tests lower them on the same code path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl HashCost {
    /// OWASP: 19 MiB, t=2, p=1.
    pub const OWASP: HashCost = HashCost {
        memory_kib: 19_456,
        iterations: 2,
    };

    fn hasher(self) -> Result<Argon2<'static>> {
        let params =
            Params::new(self.memory_kib, self.iterations, 1, None).map_err(Error::internal)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 256;

/// A handful of passwords attackers try first; refused whatever their length.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "iloveyou",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "admin123",
    "administrator",
    "letmein1",
    "trustno1",
    "passw0rd",
    "qwerty123",
    "1q2w3e4r",
    "abc12345",
    "11111111",
    "00000000",
    "changeme",
    "roster123",
];

/// Checks a new password: length only, no composition rules (ASVS V6.2), not a common one,
/// and not the person's own email address or its name part.
pub fn check_new(field: &'static str, password: &str, email: Option<&str>) -> Result<()> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(Error::field(field, "password-too-short"));
    }
    if len > MAX_LEN {
        return Err(Error::field(field, "password-too-long"));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Err(Error::field(field, "password-common"));
    }
    if let Some(email) = email {
        let local = email.split('@').next().unwrap_or("");
        if lower == email || (local.len() >= 4 && lower.contains(local)) {
            return Err(Error::field(field, "password-context"));
        }
    }
    Ok(())
}

/// Hashes a password into a PHC string `$argon2id$v=19$m=…,t=…,p=1$salt$hash`.
pub fn hash(cost: HashCost, password: &str) -> Result<String> {
    let hash = cost
        .hasher()?
        .hash_password(password.as_bytes())
        .map_err(Error::internal)?;
    Ok(hash.to_string())
}

/// True when `password` matches the stored PHC string (its own parameters are used).
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Spends the same time as a real verification, for sign-ins of unknown addresses: verifies
/// against a dummy hash made once per cost.
pub fn verify_dummy(cost: HashCost, password: &str) {
    static DUMMIES: Mutex<Vec<(HashCost, String)>> = Mutex::new(Vec::new());
    let dummy = {
        let mut dummies = DUMMIES.lock().unwrap_or_else(|e| e.into_inner());
        match dummies.iter().find(|(c, _)| *c == cost) {
            Some((_, h)) => h.clone(),
            None => {
                let Ok(h) = hash(cost, "roster-dummy-password") else {
                    return;
                };
                dummies.push((cost, h.clone()));
                h
            }
        }
    };
    let _ = verify(password, &dummy);
}

/// True when a stored hash was made with other parameters than `cost` (rehash at sign-in).
pub fn needs_rehash(cost: HashCost, stored: &str) -> bool {
    let wanted = format!(
        "$argon2id$v=19$m={},t={},p=1$",
        cost.memory_kib, cost.iterations
    );
    !stored.starts_with(&wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: HashCost = HashCost {
        memory_kib: 64,
        iterations: 1,
    };

    #[test]
    fn hashes_with_argon2id_and_verifies() {
        let h = hash(FAST, "correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery staple ", &h));
        assert!(!verify("Correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapl", &h));
        assert_ne!(
            h,
            hash(FAST, "correct horse battery staple").unwrap(),
            "salt is per hash"
        );
        assert!(!needs_rehash(FAST, &h));
        assert!(needs_rehash(HashCost::OWASP, &h));
    }

    #[test]
    fn owasp_parameters_are_written_in_the_hash() {
        let h = hash(HashCost::OWASP, "correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }

    #[test]
    fn new_password_rules() {
        assert!(check_new("password", "correct horse battery staple", None).is_ok());
        assert!(check_new("password", "1234567", None).is_err());
        assert!(check_new("password", "Password1234", None).is_err());
        assert!(check_new("password", &"x".repeat(257), None).is_err());
        assert!(check_new("password", &"y".repeat(128), None).is_ok());
        assert!(check_new("password", "alice@example.test", Some("alice@example.test")).is_err());
        assert!(check_new("password", "alice-rocks-2026", Some("alice@example.test")).is_err());
    }
}
