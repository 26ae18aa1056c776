//! WebCrypto in the host: `crypto.subtle.digest` and HMAC here (interpreted
//! JS hashing would be orders of magnitude slower), the rest of
//! `crypto.subtle` (keys, signatures, ciphers, derivation) in [`subtle`].

mod der;
pub mod subtle;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha384, Sha512};

fn hash_name(name: &str) -> Result<&'static str, String> {
    match name.to_ascii_uppercase().as_str() {
        "SHA-1" => Ok("SHA-1"),
        "SHA-256" => Ok("SHA-256"),
        "SHA-384" => Ok("SHA-384"),
        "SHA-512" => Ok("SHA-512"),
        _ => Err(format!("unsupported hash algorithm {name:?} (use SHA-1, SHA-256, SHA-384 or SHA-512)")),
    }
}

pub fn digest(algorithm: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(match hash_name(algorithm)? {
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => Sha256::digest(data).to_vec(),
        "SHA-384" => Sha384::digest(data).to_vec(),
        _ => Sha512::digest(data).to_vec(),
    })
}

pub fn hmac(hash: &str, key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }
    Ok(match hash_name(hash)? {
        "SHA-1" => mac::<Hmac<sha1::Sha1>>(key, data),
        "SHA-256" => mac::<Hmac<Sha256>>(key, data),
        "SHA-384" => mac::<Hmac<Sha384>>(key, data),
        _ => mac::<Hmac<Sha512>>(key, data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn known_vectors() {
        assert_eq!(
            hex(&digest("sha-256", b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac("SHA-256", b"Jefe", b"what do ya want for nothing?").unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(hex(&digest("SHA-1", b"abc").unwrap()), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert!(digest("MD5", b"").unwrap_err().contains("unsupported"));
    }
}
