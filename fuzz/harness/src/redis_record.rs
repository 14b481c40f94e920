//! `redis_record`: the Redis store's packed record decoder
//! (`tessera_std::store::record_codec`), which reads whatever a shared Redis
//! holds at a record's key.
//!
//! Every input is used twice:
//! - as a stored record: `decode` never panics; it either refuses with
//!   `StoreError::Corrupt` or returns a record whose `encode` gives back the
//!   same bytes (one encoding per record: nothing dropped, reordered or
//!   normalised);
//! - as `arbitrary` data for a record (running with either lease form, or
//!   done with any status, headers and body): `encode` then `decode` gives it
//!   back.

use arbitrary::{Arbitrary, Unstructured};
use tessera_std::store::record_codec::{decode, Lease, Record};
use tessera_std::store::{StoreError, StoredResponse};

/// The `redis_record` target.
pub fn redis_record(data: &[u8]) {
    match decode(data) {
        Ok(record) => assert_eq!(record.encode().expect("re-encodes"), data, "{record:?}"),
        Err(e) => assert_eq!(e, StoreError::Corrupt),
    }
    if let Ok(record) = arbitrary_record(&mut Unstructured::new(data)) {
        let bytes = record.encode().expect("small parts encode");
        assert_eq!(decode(&bytes), Ok(record));
    }
}

fn arbitrary_record(u: &mut Unstructured<'_>) -> arbitrary::Result<Record> {
    let fingerprint = <[u8; 16]>::arbitrary(u)?;
    let token = <[u8; 16]>::arbitrary(u)?;
    Ok(match u.int_in_range(0..=2u8)? {
        0 => Record::Running { fingerprint, token, lease: Lease::FromExpiry { ttl: u.arbitrary()? } },
        1 => Record::Running {
            fingerprint,
            token,
            lease: Lease::Explicit { end: u.arbitrary()?, keep_until: u.arbitrary()? },
        },
        _ => Record::Done {
            fingerprint,
            token,
            response: StoredResponse { status: u.arbitrary()?, headers: u.arbitrary()?, body: u.arbitrary()? },
        },
    })
}
