use super::*;

fn message(text: &str) -> Message {
    Message {
        text: Some(text.into()),
        audio_url: None,
        voice: DEFAULT_VOICE.into(),
        language: DEFAULT_LANGUAGE.into(),
        repeat: 1,
    }
}

#[test]
fn variables_are_filled_from_the_contact() {
    let vars = serde_json::json!({"amount": "500.000đ", "count": 3});
    let rendered = message("Chào {{name}}, bạn nợ {{ amount }} ({{count}}) {{missing}}.{{")
        .render("An", &vars);
    assert_eq!(
        rendered.as_deref(),
        Some("Chào An, bạn nợ 500.000đ (3) .{{")
    );
}

#[test]
fn bad_settings_are_refused() {
    assert!(message("").validate().is_err());
    assert!(message(&"x".repeat(MAX_MESSAGE_CHARS + 1))
        .validate()
        .is_err());
    let both = Message {
        audio_url: Some("https://x/a.mp3".into()),
        ..message("hi")
    };
    assert!(both.validate().is_err());
    assert!(message("a\u{0}b").validate().is_err());
    assert!(message("line one\nline two\ttab").validate().is_ok());
    let menu = Menu {
        prompt: None,
        timeout_secs: 5,
        options: vec![MenuOption {
            digit: "1".into(),
            action: MenuAction::Transfer,
            transfer_to: None,
        }],
    };
    assert!(menu.validate().is_err());
    let nul_prompt = Menu {
        prompt: Some("press\u{0}1".into()),
        timeout_secs: 5,
        options: vec![MenuOption {
            digit: "1".into(),
            action: MenuAction::Hangup,
            transfer_to: None,
        }],
    };
    assert!(nul_prompt.validate().is_err());
    let dup = Menu {
        prompt: None,
        timeout_secs: 5,
        options: vec![
            MenuOption {
                digit: "9".into(),
                action: MenuAction::OptOut,
                transfer_to: None,
            },
            MenuOption {
                digit: "9".into(),
                action: MenuAction::Hangup,
                transfer_to: None,
            },
        ],
    };
    assert!(dup.validate().is_err());
    assert!(Schedule {
        time_zone: "Mars/Olympus".into(),
        ..Schedule::default()
    }
    .validate()
    .is_err());
    assert!(Schedule {
        days: vec![8],
        ..Schedule::default()
    }
    .validate()
    .is_err());
}
