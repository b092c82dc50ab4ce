//! Times on the wire of the rooms protocol: ISO-8601 in UTC with milliseconds
//! (`2026-12-01T11:43:35.123Z`), converted from and to milliseconds since the Unix epoch
//! without a date library (the browser bundle stays small).

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_from_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// Milliseconds since the epoch of an ISO-8601 UTC time as [`iso_from_ms`] writes it (the
/// fraction may have 0 to 9 digits, and the zone may be `Z` or `+00:00`). `None` for
/// anything else.
pub fn ms_from_iso(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, m, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut at = 19;
    let mut milli = 0;
    if b[at] == b'.' {
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let fraction = &text[at + 1..at + 1 + digits];
        let padded = format!("{fraction:0<3}");
        milli = padded[..3].parse::<i64>().ok()?;
        at += 1 + digits;
    }
    match &text[at..] {
        "Z" | "+00:00" => {}
        _ => return None,
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400_000 + h * 3_600_000 + m * 60_000 + s * 1000 + milli)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_milliseconds() {
        assert_eq!(iso_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_from_ms(1_764_589_415_123), "2025-12-01T11:43:35.123Z");
        assert_eq!(iso_from_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn parses_what_it_formats_and_common_variants() {
        for ms in [
            0,
            1,
            999,
            86_399_999,
            951_782_400_000,
            1_764_589_415_123,
            4_102_444_800_000,
        ] {
            assert_eq!(ms_from_iso(&iso_from_ms(ms)), Some(ms), "{ms}");
        }
        assert_eq!(ms_from_iso("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(ms_from_iso("1970-01-01T00:00:01.5+00:00"), Some(1500));
        assert_eq!(ms_from_iso("1970-01-01T00:00:01.123456Z"), Some(1123));
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            "yesterday",
            "1970-01-01 00:00:00Z",
            "1970-13-01T00:00:00Z",
            "1970-01-01T00:00:00",
            "1970-01-01T00:00:00+02:00",
            "1970-01-01T00:00:00.Z",
            "1970-01-01T0a:00:00Z",
        ] {
            assert_eq!(ms_from_iso(bad), None, "{bad}");
        }
    }
}
