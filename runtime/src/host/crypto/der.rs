//! The little DER WebCrypto's key formats need around what aws-lc-rs
//! offers: RSA key components for JWK, and the fixed SPKI / PKCS#8 wrappers
//! of EC points and 32-byte Curve25519 keys.

/// Reads one TLV at the start of `d`: (tag, contents, rest).
pub fn read(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, d) = d.split_first()?;
    let (&first, mut d) = d.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || d.len() < n {
            return None;
        }
        let len = d[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        d = &d[n..];
        len
    };
    (d.len() >= len).then(|| (tag, &d[..len], &d[len..]))
}

/// The INTEGERs inside a SEQUENCE, as unsigned big-endian bytes.
pub fn integers(seq: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (tag, mut body, _) = read(seq)?;
    if tag != 0x30 {
        return None;
    }
    let mut out = Vec::new();
    while !body.is_empty() {
        let (t, v, rest) = read(body)?;
        if t != 0x02 {
            return None;
        }
        let v = match v.iter().position(|&b| b != 0) {
            Some(i) => v[i..].to_vec(),
            None => vec![0],
        };
        out.push(v);
        body = rest;
    }
    Some(out)
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(body);
    out
}

/// A SEQUENCE of unsigned INTEGERs (e.g. PKCS#1 RSAPublicKey).
pub fn sequence_of_integers(ints: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    for i in ints {
        let i = match i.iter().position(|&b| b != 0) {
            Some(p) => &i[p..],
            None => &[0u8][..],
        };
        let mut v = Vec::with_capacity(i.len() + 1);
        if i[0] & 0x80 != 0 {
            v.push(0);
        }
        v.extend_from_slice(i);
        body.extend(tlv(0x02, &v));
    }
    tlv(0x30, &body)
}

/// The private key inside a PKCS#8 PrivateKeyInfo (its OCTET STRING).
pub fn pkcs8_private_key(der: &[u8]) -> Option<&[u8]> {
    let (tag, body, _) = read(der)?;
    if tag != 0x30 {
        return None;
    }
    let (_, _, rest) = read(body)?; // version
    let (_, _, rest) = read(rest)?; // algorithm
    let (tag, key, _) = read(rest)?;
    (tag == 0x04).then_some(key)
}

/// SPKI headers of fixed-size public keys (the key bytes follow).
pub const SPKI_P256: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
pub const SPKI_P384: &[u8] = &[
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00,
    0x22, 0x03, 0x62, 0x00,
];
pub const SPKI_ED25519: &[u8] = &[0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
pub const SPKI_X25519: &[u8] = &[0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00];
/// PKCS#8 header of an X25519 private key (the 32-byte key follows).
pub const PKCS8_X25519: &[u8] =
    &[0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        let der = sequence_of_integers(&[&[0x00, 0x81, 0x02], &[1, 0, 1]]);
        assert_eq!(integers(&der).unwrap(), vec![vec![0x81, 0x02], vec![1, 0, 1]]);
        assert!(integers(&[0x31, 0x00]).is_none());
        let long = vec![0x7fu8; 300];
        assert_eq!(integers(&sequence_of_integers(&[&long])).unwrap(), vec![long]);
    }
}
