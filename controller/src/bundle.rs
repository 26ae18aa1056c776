//! A version's bundle as stored in the blob store: its source and the
//! bytecode compiled from it. Layout: `QZB1 | source_len u32 LE | source |
//! bytecode`. Stored under the hash of these bytes, so it is immutable.

const MAGIC: &[u8; 4] = b"QZB1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub source: String,
    pub bytecode: Vec<u8>,
}

impl Bundle {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.source.len() + self.bytecode.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.source.len() as u32).to_le_bytes());
        out.extend_from_slice(self.source.as_bytes());
        out.extend_from_slice(&self.bytecode);
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let source = std::str::from_utf8(rest.get(4..4 + len)?).ok()?.to_owned();
        Some(Self { source, bytecode: rest[4 + len..].to_vec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let b = Bundle { source: "export default () => 1 // é".into(), bytecode: vec![0, 1, 2, 255] };
        assert_eq!(Bundle::decode(&b.encode()), Some(b));
        assert_eq!(Bundle::decode(b"QZB1\xff\xff\xff\xffabc"), None);
        assert_eq!(Bundle::decode(b"nope"), None);
    }
}
