/// "14:05": when a message was stored, in the reader's time zone once the browser app runs
/// (`local`), in UTC before that (the server cannot know the reader's zone).
pub fn time_text(ms: i64, local: bool) -> String {
    let (hours, minutes) =
        if local { local_hours_minutes(ms) } else { None }.unwrap_or_else(|| utc_hours_minutes(ms));
    let suffix = if local { "" } else { " UTC" };
    format!("{hours:02}:{minutes:02}{suffix}")
}

fn utc_hours_minutes(ms: i64) -> (i64, i64) {
    let minutes_of_day = ms.div_euclid(60_000).rem_euclid(24 * 60);
    (minutes_of_day / 60, minutes_of_day % 60)
}

fn local_hours_minutes(ms: i64) -> Option<(i64, i64)> {
    #[cfg(feature = "hydrate")]
    {
        #[allow(clippy::cast_precision_loss)] // ms since the epoch fit an f64 exactly
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        Some((i64::from(date.get_hours()), i64::from(date.get_minutes())))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ms;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_before_the_app_runs() {
        // 2023-11-14T22:13:20Z
        assert_eq!(time_text(1_700_000_000_000, false), "22:13 UTC");
        assert_eq!(time_text(0, false), "00:00 UTC");
    }
}
