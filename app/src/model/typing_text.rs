/// The typing indicator's text for the people currently typing.
pub fn typing_text(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("{one} is typing…"),
        [one, two] => format!("{one} and {two} are typing…"),
        many => format!("{} people are typing…", many.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn phrases() {
        assert_eq!(typing_text(&[]), "");
        assert_eq!(typing_text(&names(&["Ann"])), "Ann is typing…");
        assert_eq!(
            typing_text(&names(&["Ann", "Bob"])),
            "Ann and Bob are typing…"
        );
        assert_eq!(
            typing_text(&names(&["Ann", "Bob", "Cat"])),
            "3 people are typing…"
        );
        assert_eq!(
            typing_text(&names(&["A", "B", "C", "D"])),
            "4 people are typing…"
        );
    }
}
