//! Record keys. The stored form of a record is in
//! [`crate::store::record_codec`].

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Names a record's key and, with a quota, its scope's set of live records.
pub(super) struct Keys {
    /// The record.
    pub(super) record: String,
    /// The scope's sorted set (member: record key, score: record end in
    /// server ms), when a quota is configured.
    pub(super) scope: Option<String>,
}

/// `<prefix>{<scope digest>}<record digest>`, and with a quota the scope's
/// set `<prefix>{<scope digest>}q`: the braces are a Redis Cluster hash tag,
/// so one scope's records and its set share a slot (one node), and the claim
/// script counts and creates atomically. The name is the same with or without
/// a quota: instances that differ in `--max-keys-per-sub`, or a restart that
/// changes it, still find every record.
///
/// The digests are keyed with the configured secret: every instance computes
/// the same names, while key names reveal nothing about scopes or keys and
/// cannot be aimed at one slot.
pub(super) fn keys(secret: &[u8], prefix: &str, quota: bool, scope: &[u8], key: &[u8]) -> Keys {
    let len = (scope.len() as u64).to_le_bytes();
    let record = digest(secret, &[&len, scope, key]);
    // A length no scope has: scope digests never equal record digests.
    let tag = digest(secret, &[&u64::MAX.to_le_bytes(), scope]);
    Keys {
        record: format!("{prefix}{{{tag}}}{record}"),
        scope: quota.then(|| format!("{prefix}{{{tag}}}q")),
    }
}

/// 32 hex digits of HMAC-SHA-256(secret, parts).
fn digest(secret: &[u8], parts: &[&[u8]]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(part);
    }
    let digest = mac.finalize().into_bytes();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for b in digest.iter().take(16) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_do_not_alias() {
        let a = keys(b"secret", "tessera:", false, b"ab", b"c").record;
        let b = keys(b"secret", "tessera:", false, b"a", b"bc").record;
        assert_ne!(a, b);
        assert!(
            a.starts_with("tessera:{") && a.len() == "tessera:{}".len() + 64,
            "{a}"
        );
        assert_ne!(
            a,
            keys(b"other secret", "tessera:", false, b"ab", b"c").record
        );
    }

    /// One scope's records and its set share the hash tag; another scope's
    /// do not; a record's name does not depend on whether a quota is set.
    #[test]
    fn quota_keys_are_tagged_by_scope() {
        let tag = |k: &str| k[k.find('{').unwrap()..=k.find('}').unwrap()].to_string();
        let a1 = keys(b"s", "p:", true, b"alice", b"1");
        let a2 = keys(b"s", "p:", true, b"alice", b"2");
        let b1 = keys(b"s", "p:", true, b"bob", b"1");
        let set = a1.scope.clone().unwrap();
        assert_eq!(tag(&a1.record), tag(&set));
        assert_eq!(tag(&a2.record), tag(&set));
        assert_ne!(tag(&b1.record), tag(&set));
        assert!(set.ends_with("}q") && a1.record != a2.record, "{set}");
        assert_eq!(a1.record, keys(b"s", "p:", false, b"alice", b"1").record);
        assert_eq!(keys(b"s", "p:", false, b"alice", b"1").scope, None);
    }
}
