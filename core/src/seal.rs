//! Secrets Roster must read back (TOTP seeds) are kept sealed at rest: XChaCha20-Poly1305 with
//! the node's 256-bit secret key, a random 192-bit nonce per value, and the owning row's id as
//! associated data, so a sealed value copied onto another row does not open.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};

const NONCE_LEN: usize = 24;

/// The key that seals secrets at rest. Every node of one installation must share it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    /// A new key from the operating system's random source.
    pub fn generate() -> Result<SecretKey> {
        let mut b = [0u8; 32];
        crate::secret::fill_random(&mut b)?;
        Ok(SecretKey(b))
    }

    /// Reads a key written by `to_text` (64 hex digits, surrounding space ignored).
    pub fn from_text(text: &str) -> Option<SecretKey> {
        let t = text.trim();
        if t.len() != 64 || !t.is_ascii() {
            return None;
        }
        let mut b = [0u8; 32];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(SecretKey(b))
    }

    pub fn to_text(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// Nonce then ciphertext and tag.
    pub fn seal(&self, plaintext: &[u8], bound_to: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::secret::fill_random(&mut nonce)?;
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: bound_to,
                },
            )
            .map_err(|_| Error::internal("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plaintext, or an error when the value was sealed with another key or for another row,
    /// or was altered.
    pub fn open(&self, sealed: &[u8], bound_to: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::internal("sealed value too short"));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| Error::internal("sealed value too short"))?;
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: bound_to,
                },
            )
            .map_err(|_| Error::internal("a sealed secret does not open with this key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_with_its_key_and_row() {
        let key = SecretKey::generate().unwrap();
        let sealed = key.seal(b"seed", b"row-1").unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"seed"));
        assert_eq!(key.open(&sealed, b"row-1").unwrap(), b"seed");
        assert!(key.open(&sealed, b"row-2").is_err());
        assert!(
            SecretKey::generate()
                .unwrap()
                .open(&sealed, b"row-1")
                .is_err()
        );
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open(&altered, b"row-1").is_err());
    }

    #[test]
    fn text_round_trip() {
        let key = SecretKey::generate().unwrap();
        let back = SecretKey::from_text(&format!(" {}\n", key.to_text())).unwrap();
        assert_eq!(back.0, key.0);
        assert!(SecretKey::from_text("zz").is_none());
    }
}
