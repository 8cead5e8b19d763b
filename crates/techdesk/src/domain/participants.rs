//! Request participants: who they are as shown (profiles) and the "add participant" input.

use atlassian::client::User;

use super::ticket::Person;

/// A participant as the ticket view shows them.
pub fn person_of(u: &User) -> Person {
    Person {
        account_id: u.account_id.clone(),
        name: u
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "(unknown)".to_owned()),
        email: u.email_address.clone().filter(|e| !e.is_empty()),
        time_zone: u.time_zone.clone().filter(|z| !z.is_empty()),
        account_type: u.account_type.clone(),
        active: u.active.unwrap_or(true),
    }
}

/// Whom to add, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewParticipant {
    /// An email address (looked up among the users the caller can see).
    Email(String),
    /// An Atlassian account id.
    AccountId(String),
}

/// Checks the typed text: an email address or an account id (letters, digits, `:`, `-`,
/// `_`; at most 128 characters).
pub fn parse_participant(input: &str) -> Result<NewParticipant, &'static str> {
    let s = input.trim();
    if s.is_empty() {
        return Err("enter an email address or an account id");
    }
    if s.chars().count() > 254 || s.chars().any(char::is_control) {
        return Err("not an email address or account id");
    }
    if let Some((local, domain)) = s.split_once('@') {
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.chars().any(char::is_whitespace)
            && !domain.contains('@');
        return if ok {
            Ok(NewParticipant::Email(s.to_owned()))
        } else {
            Err("not a valid email address")
        };
    }
    if s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
    {
        Ok(NewParticipant::AccountId(s.to_owned()))
    } else {
        Err("not an email address or account id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_an_email_or_an_account_id() {
        assert_eq!(
            parse_participant(" ann@example.com "),
            Ok(NewParticipant::Email("ann@example.com".into()))
        );
        assert_eq!(
            parse_participant("qm:1234-abcd:5678"),
            Ok(NewParticipant::AccountId("qm:1234-abcd:5678".into()))
        );
        for bad in [
            "",
            "  ",
            "a b",
            "ann@",
            "@x.org",
            "ann@x",
            "a@b@c.org",
            "<script>",
            "x\u{0}",
        ] {
            assert!(parse_participant(bad).is_err(), "{bad:?}");
        }
        assert!(parse_participant(&"a".repeat(129)).is_err());
    }

    #[test]
    fn profiles_from_users() {
        let u: User = serde_json::from_value(serde_json::json!({
            "accountId": "a1", "displayName": "Ann", "emailAddress": "",
            "timeZone": "Europe/London", "active": false
        }))
        .unwrap();
        let p = person_of(&u);
        assert_eq!(p.name, "Ann");
        assert_eq!(p.email, None);
        assert_eq!(p.time_zone.as_deref(), Some("Europe/London"));
        assert!(!p.active);
        let nameless: User =
            serde_json::from_value(serde_json::json!({"accountId": "a2"})).unwrap();
        assert_eq!(person_of(&nameless).name, "(unknown)");
    }
}
