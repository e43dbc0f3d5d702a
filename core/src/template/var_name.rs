//! Which names can be variables: ASCII identifiers that are not Jinja's literals (`true`,
//! `none`, ...) or `not`, as ansible-core's `validate_variable_name` has it. One rule for
//! set_fact, register and the static checks.

const JINJA_KEYWORDS: [&str; 7] = ["true", "false", "none", "True", "False", "None", "not"];

/// Whether `name` can be a variable's name.
pub fn valid(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !JINJA_KEYWORDS.contains(&name)
}

/// `Err` with ansible-core's message when `name` cannot be a variable's name.
pub fn check(name: &str) -> Result<(), String> {
    if valid(name) {
        Ok(())
    } else if name.parse::<i64>().is_ok() {
        // A mapping key is text by the time it is checked; one that reads as a whole number
        // was one (a YAML `1:` or a `{{ 1 }}` key), which ansible-core names by its type.
        Err(format!("Invalid variable name '{name}' of type 'int'."))
    } else {
        Err(format!("Invalid variable name '{name}'."))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert!(super::valid("my_var1") && super::valid("_x"));
        for bad in ["200", "true", "None", "not", "a-b", "é", ""] {
            assert!(!super::valid(bad), "{bad}");
        }
        assert_eq!(
            super::check("1"),
            Err("Invalid variable name '1' of type 'int'.".into())
        );
        assert_eq!(
            super::check("true"),
            Err("Invalid variable name 'true'.".into())
        );
    }
}
