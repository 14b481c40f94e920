//! RFC 3339 `date-time` (§5.6) to seconds since the epoch, without allocation.
//!
//! PASETO's registered claims carry dates as strings. Offsets are applied
//! (`+02:00` is two hours ahead of UTC), impossible dates (`2023-02-30`,
//! `24:00:00`) are refused, and fractional seconds are kept as "a fraction was
//! present" so `exp`/`nbf` can round up: with an integer clock `now`,
//! `now < exp` holds exactly when `now < ceil(exp)`.

use crate::error::Malformed;

/// A parsed date-time: whole seconds since the epoch (rounded down) and
/// whether a non-zero fraction was cut off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DateTime {
    pub(crate) secs: u64,
    pub(crate) fraction: bool,
}

impl DateTime {
    /// The seconds rounded up: the exact bound for `now < exp` and `nbf <= now`.
    pub(crate) fn ceil(self) -> u64 {
        self.secs.saturating_add(u64::from(self.fraction))
    }
}

/// Two ASCII digits as a number.
#[inline(always)]
fn two(hi: u8, lo: u8) -> Result<u32, Malformed> {
    let (h, l) = (hi.wrapping_sub(b'0'), lo.wrapping_sub(b'0'));
    if h > 9 || l > 9 {
        return Err(Malformed::Date);
    }
    // At most 99: no overflow.
    Ok(u32::from(h).wrapping_mul(10).wrapping_add(u32::from(l)))
}

/// Whether `byte` is the letter `lower` in either case (`lower` a lowercase letter).
const fn letter(byte: u8, lower: u8) -> bool {
    byte | 0x20 == lower
}

const fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

const fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid date with `year >= 1970` (H. Hinnant's
/// `days_from_civil`).
#[allow(clippy::arithmetic_side_effects)] // year <= 9999, month 1..=12, day 1..=31: no overflow
const fn days_since_epoch(year: u32, month: u32, day: u32) -> u64 {
    let y = (year - (month <= 2) as u32) as u64;
    let era = y / 400;
    let yoe = y % 400;
    let mp = ((month + 9) % 12) as u64;
    let doy = (153 * mp + 2) / 5 + day as u64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds in `h:m:s`.
fn hms(h: u32, m: u32, s: u32) -> u64 {
    u64::from(h)
        .saturating_mul(3600)
        .saturating_add(u64::from(m).saturating_mul(60))
        .saturating_add(u64::from(s))
}

/// One of three overlapping words that cover `YYYY-MM-DDTHH:MM:SS` (bytes
/// 0..8, 8..16, 11..19), read eight bytes at once (SWAR).
struct Word {
    at: usize,
    /// XORed in: a digit lane becomes its value (0..=9 only for `0`..=`9`), a
    /// separator lane 0 only for that separator.
    pattern: u64,
    /// ORed in first: `T` is matched in either case.
    case: u64,
    /// Added after: a lane stays below 0x80 only up to 9 (digit) or 0
    /// (separator); a lane at or above 0x80 is refused as it stands.
    limit: u64,
}

#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // const build, indices below 8
const fn word(at: usize, pattern: &[u8; 8]) -> Word {
    let (mut case, mut limit) = ([0u8; 8], [0x7Fu8; 8]);
    let mut i = 0;
    while i < 8 {
        if pattern[i] == b'0' {
            limit[i] = 0x7F - 9;
        }
        if pattern[i] == b't' {
            case[i] = 0x20;
        }
        i += 1;
    }
    Word {
        at,
        pattern: u64::from_le_bytes(*pattern),
        case: u64::from_le_bytes(case),
        limit: u64::from_le_bytes(limit),
    }
}

const HEAD: [Word; 3] = [
    word(0, b"0000-00-"),
    word(8, b"00t00:00"),
    word(11, b"00:00:00"),
];

/// The lanes of `w` in `head` as two-digit numbers: lane `i` is
/// `10 × digit i + digit i+1`, meaningful where a digit pair starts; `None`
/// unless every digit and separator of `w` is right.
#[inline(always)]
fn pairs(head: &[u8; 19], w: &Word) -> Option<[u8; 8]> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let bytes = head.get(w.at..)?.first_chunk::<8>()?;
    let x = (u64::from_le_bytes(*bytes) | w.case) ^ w.pattern;
    if (x.wrapping_add(w.limit) | x) & HIGH != 0 {
        return None;
    }
    // Every lane is at most 9: 10 × 9 + 9 stays inside its lane.
    Some(x.wrapping_mul(10).wrapping_add(x >> 8).to_le_bytes())
}

/// Parses `full-date "T" full-time`; `60` seconds (a leap second) counts as the
/// next minute's first second.
pub(crate) fn parse(text: &[u8]) -> Result<DateTime, Malformed> {
    match parse_prefix(text)? {
        (date, len) if len == text.len() => Ok(date),
        _ => Err(Malformed::Date),
    }
}

/// Parses a date-time at the front of `text`, returning it and its length.
///
/// Every field but the fraction has a fixed width, so the text is matched as
/// fixed patterns (19 bytes, then `Z` or a 6-byte offset) with no cursor. The
/// bytes it accepts are digits, `-:+.`, `T` and `Z`: never a JSON quote,
/// backslash or control byte, so a JSON string can be read as a date in place.
pub(crate) fn parse_prefix(text: &[u8]) -> Result<(DateTime, usize), Malformed> {
    let (head, mut s) = text.split_first_chunk::<19>().ok_or(Malformed::Date)?;
    let [date, day, time] = [&HEAD[0], &HEAD[1], &HEAD[2]].map(|w| pairs(head, w));
    let (Some([century, _, year, _, _, month, _, _]), Some([day, ..]), Some(time)) =
        (date, day, time)
    else {
        return Err(Malformed::Date);
    };
    let [hour, _, _, minute, _, _, second, _] = time;
    // At most 99 * 100 + 99: no overflow.
    let year = u32::from(century)
        .wrapping_mul(100)
        .wrapping_add(u32::from(year));
    let (month, day) = (u32::from(month), u32::from(day));
    let (hour, minute, second) = (u32::from(hour), u32::from(minute), u32::from(second));
    if year < 1970
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(Malformed::Date);
    }
    let mut fraction = false;
    if let Some((b'.', rest)) = s.split_first() {
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return Err(Malformed::Date);
        }
        let (frac, rest) = rest.split_at_checked(n).ok_or(Malformed::Date)?;
        fraction = frac.iter().any(|&d| d != b'0');
        s = rest;
    }
    // Seconds east of UTC, and its sign.
    let (east, offset, rest) = match *s {
        [z, ref rest @ ..] if letter(z, b'z') => (true, 0u64, rest),
        [sign @ (b'+' | b'-'), h0, h1, b':', m0, m1, ref rest @ ..] => {
            let (h, m) = (two(h0, h1)?, two(m0, m1)?);
            if h > 23 || m > 59 {
                return Err(Malformed::Date);
            }
            (sign == b'+', hms(h, m, 0), rest)
        }
        _ => return Err(Malformed::Date),
    };
    let local = days_since_epoch(year, month, day)
        .saturating_mul(86_400)
        .saturating_add(hms(hour, minute, second));
    // Local time is UTC + offset, so UTC = local - offset; before 1970 is refused.
    let secs = if east {
        local.checked_sub(offset)
    } else {
        local.checked_add(offset)
    };
    let date = DateTime {
        secs: secs.ok_or(Malformed::Date)?,
        fraction,
    };
    // `rest` is a tail of `text`: the subtraction cannot wrap.
    Ok((date, text.len().wrapping_sub(rest.len())))
}

/// The last second RFC 3339's four-digit year can write: 9999-12-31T23:59:59Z.
const LAST: u64 = 253_402_300_799;

/// Writes `secs` since the epoch as `YYYY-MM-DDTHH:MM:SSZ` into `out`, for
/// minting `iat`/`exp`; `None` past year 9999. The inverse of `parse`
/// (H. Hinnant's `civil_from_days`).
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)] // secs <= LAST bounds every value; indices are constants below 20
pub fn format(secs: u64, out: &mut [u8; 20]) -> Option<&str> {
    if secs > LAST {
        return None;
    }
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    *out = *b"0000-00-00T00:00:00Z";
    for (at, width, value) in [
        (0, 4, year),
        (5, 2, month),
        (8, 2, day),
        (11, 2, rem / 3600),
        (14, 2, rem % 3600 / 60),
        (17, 2, rem % 60),
    ] {
        let mut v = value;
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    core::str::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> Result<u64, Malformed> {
        parse(s.as_bytes()).map(|d| d.secs)
    }

    #[test]
    fn utc_and_offsets_name_the_same_instant() {
        assert_eq!(secs("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(secs("2022-01-01T00:00:00+00:00"), Ok(1_640_995_200));
        assert_eq!(secs("2022-01-01T02:00:00+02:00"), Ok(1_640_995_200));
        assert_eq!(secs("2021-12-31T19:30:00-04:30"), Ok(1_640_995_200));
        assert_eq!(secs("2022-01-01t00:00:00z"), Ok(1_640_995_200));
        assert_eq!(secs("2024-02-29T12:00:00Z"), Ok(1_709_208_000));
        assert_eq!(secs("2000-03-01T00:00:00Z"), Ok(951_868_800));
        assert_eq!(secs("9999-12-31T23:59:59Z"), Ok(253_402_300_799));
    }

    #[test]
    fn format_is_the_inverse_of_parse() {
        let mut buf = [0u8; 20];
        assert_eq!(format(0, &mut buf), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            format(1_700_000_000, &mut buf),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(format(951_868_799, &mut buf), Some("2000-02-29T23:59:59Z"));
        assert_eq!(format(LAST, &mut buf), Some("9999-12-31T23:59:59Z"));
        assert_eq!(format(LAST + 1, &mut buf), None);
        for t in (0..LAST).step_by(86_400 * 13 + 3_607) {
            let text = format(t, &mut buf).unwrap();
            assert_eq!(secs(text), Ok(t), "{text}");
        }
    }

    #[test]
    fn fractions_round_up_only_when_non_zero() {
        let d = parse(b"2022-01-01T00:00:00.25Z").unwrap();
        assert_eq!((d.secs, d.ceil()), (1_640_995_200, 1_640_995_201));
        let d = parse(b"2022-01-01T00:00:00.000+00:00").unwrap();
        assert_eq!((d.secs, d.ceil()), (1_640_995_200, 1_640_995_200));
    }

    /// The cursor-based parser this fixed-pattern one replaced, as a reference.
    fn reference(text: &[u8]) -> Result<DateTime, Malformed> {
        fn digits(s: &mut &[u8], n: usize) -> Result<u32, Malformed> {
            let (head, rest) = s.split_at_checked(n).ok_or(Malformed::Date)?;
            *s = rest;
            head.iter().try_fold(0u32, |v, &d| match d {
                b'0'..=b'9' => Ok(v * 10 + u32::from(d - b'0')),
                _ => Err(Malformed::Date),
            })
        }
        fn sep(s: &mut &[u8], byte: u8) -> Result<(), Malformed> {
            match s.split_first() {
                Some((b, rest)) if b.eq_ignore_ascii_case(&byte) => {
                    *s = rest;
                    Ok(())
                }
                _ => Err(Malformed::Date),
            }
        }
        let mut s = text;
        let mut field = |n, after: Option<u8>| {
            let v = digits(&mut s, n)?;
            after.map_or(Ok(()), |b| sep(&mut s, b)).map(|()| v)
        };
        let year = field(4, Some(b'-'))?;
        let month = field(2, Some(b'-'))?;
        let day = field(2, Some(b'T'))?;
        let hour = field(2, Some(b':'))?;
        let minute = field(2, Some(b':'))?;
        let second = field(2, None)?;
        if year < 1970
            || !(1..=12).contains(&month)
            || !(1..=days_in_month(year, month)).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(Malformed::Date);
        }
        let mut fraction = false;
        if let Some((b'.', rest)) = s.split_first() {
            let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return Err(Malformed::Date);
            }
            fraction = rest[..n].iter().any(|&d| d != b'0');
            s = &rest[n..];
        }
        let (east, offset) = match s {
            [z] if z.eq_ignore_ascii_case(&b'Z') => (true, 0),
            [sign @ (b'+' | b'-'), rest @ ..] => {
                let mut rest = rest;
                let h = digits(&mut rest, 2)?;
                sep(&mut rest, b':')?;
                let m = digits(&mut rest, 2)?;
                if !rest.is_empty() || h > 23 || m > 59 {
                    return Err(Malformed::Date);
                }
                (*sign == b'+', u64::from(h * 3600 + m * 60))
            }
            _ => return Err(Malformed::Date),
        };
        let local = days_since_epoch(year, month, day) * 86_400 + hms(hour, minute, second);
        let secs = if east {
            local.checked_sub(offset)
        } else {
            local.checked_add(offset)
        };
        Ok(DateTime {
            secs: secs.ok_or(Malformed::Date)?,
            fraction,
        })
    }

    #[test]
    fn agrees_with_the_reference_parser_on_every_one_byte_edit() {
        // Valid seeds of each shape, then every byte replaced by every byte that
        // matters (digits, separators, letters in both cases, signs, high bytes),
        // and every byte removed or doubled.
        let seeds: &[&[u8]] = &[
            b"2024-02-29T23:59:60Z",
            b"2099-12-31T00:00:00+00:00",
            b"1970-01-01T00:30:00+00:30",
            b"2000-02-28t12:34:56.000100-13:59",
            b"2023-11-14T22:13:20.5z",
        ];
        let bytes = b"0123456789-:+.TtZz \x7F\x80\xFF/A";
        let mut checked = 0;
        for seed in seeds {
            assert!(parse(seed).is_ok(), "{seed:?}");
            for at in 0..seed.len() {
                for &b in bytes {
                    let mut t = seed.to_vec();
                    t[at] = b;
                    assert_eq!(parse(&t), reference(&t), "{t:?}");
                    checked += 1;
                }
                let mut t = seed.to_vec();
                t.remove(at);
                assert_eq!(parse(&t), reference(&t), "{t:?}");
                t.insert(at, seed[at]);
                t.insert(at, seed[at]);
                assert_eq!(parse(&t), reference(&t), "{t:?}");
            }
        }
        // Every day of four years (two leap), at several offsets.
        let mut buf = [0u8; 20];
        for t in (946_684_800..946_684_800 + 4 * 366 * 86_400).step_by(86_400 - 7) {
            let text = format(t, &mut buf).unwrap().as_bytes()[..19].to_vec();
            for tail in [&b"Z"[..], b"+23:59", b"-00:01", b".9Z", b"+24:00"] {
                let t = [&text[..], tail].concat();
                assert_eq!(parse(&t), reference(&t), "{t:?}");
                checked += 1;
            }
        }
        assert!(checked > 10_000);
    }

    #[test]
    fn impossible_or_sloppy_dates_are_refused() {
        for bad in [
            "2023-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2022-04-31T00:00:00Z",
            "2022-13-01T00:00:00Z",
            "2022-00-01T00:00:00Z",
            "2022-01-00T00:00:00Z",
            "2022-01-01T24:00:00Z",
            "2022-01-01T00:60:00Z",
            "2022-01-01T00:00:61Z",
            "2022-01-01T00:00:00",
            "2022-01-01T00:00:00+24:00",
            "2022-01-01T00:00:00+01:60",
            "2022-01-01T00:00:00+0100",
            "2022-01-01T00:00:00.Z",
            "2022-01-01T00:00:00Z ",
            "2022-01-01 00:00:00Z",
            "22-01-01T00:00:00Z",
            "2022-1-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:30:00+01:00",
            "２022-01-01T00:00:00Z",
            "",
        ] {
            assert_eq!(secs(bad), Err(Malformed::Date), "{bad}");
        }
    }
}
