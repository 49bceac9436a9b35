//! Escaping, round trips and malformed input: the emulator parses documents it did not write.

use super::*;

#[test]
fn injection_attempts_are_escaped_text() {
    let hostile = "</Say><Dial>+15550001111</Dial><Say>";
    let xml = VoiceResponse::new()
        .say(hostile, Some("Google.vi-VN-Wavenet-A"), Some("vi-VN"))
        .to_xml();
    assert!(!xml.contains("<Dial>"), "{xml}");
    let verbs = parse(&xml).expect("parse");
    assert_eq!(verbs.len(), 1);
    assert!(matches!(&verbs[0], Verb::Say { text, .. } if text == hostile));
}

#[test]
fn round_trips_every_verb() {
    let response = VoiceResponse::new()
        .say(
            "Xin chào & \"welcome\"",
            Some("Google.vi-VN-Wavenet-A"),
            Some("vi-VN"),
        )
        .verb(Verb::Gather(Gather {
            input: Some("dtmf".into()),
            num_digits: Some(1),
            timeout: Some(5),
            action: Some("https://x.example/gather?a=1&b=2".into()),
            method: Some("POST".into()),
            finish_on_key: Some("#".into()),
            nested: vec![Verb::Play {
                url: "https://x.example/a.mp3".into(),
                loop_count: Some(2),
            }],
        }))
        .verb(Verb::Pause { length: Some(2) })
        .verb(Verb::Redirect {
            url: "https://x.example/next".into(),
            method: None,
        })
        .verb(Verb::Dial {
            number: "+84912345678".into(),
            caller_id: Some("+842812345678".into()),
            timeout: Some(20),
            action: Some("https://x.example/dial/1".into()),
            time_limit: Some(3600),
        })
        .verb(Verb::Record {
            action: None,
            max_length: Some(30),
            finish_on_key: None,
        })
        .verb(Verb::Reject {
            reason: Some("busy".into()),
        })
        .hangup();
    let xml = response.to_xml();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"),
        "{xml}"
    );
    assert_eq!(parse(&xml).expect("parse"), response.verbs);
}

#[test]
fn malformed_documents_are_errors_not_panics() {
    for bad in [
        "",
        "<Response>",
        "<Nope/>",
        "<Response><Say>x</Play></Response>",
        "\u{0}\u{1}<<<",
    ] {
        assert!(parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        parse("<Response><Unknown/><Hangup/></Response>").expect("parse"),
        vec![Verb::Hangup]
    );
}
