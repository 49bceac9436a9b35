//! The text-to-speech voices a campaign's message may use: Twilio's `<Say>` fails a call whose
//! voice and language do not match, so the list is checked when the message is saved rather
//! than discovered on the first call. Vietnamese voices are Google's (Amazon Polly has none).

use async_graphql::{Enum, SimpleObject};

/// Who a voice sounds like, for a picker that lets users choose.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoiceGender {
    /// A female voice.
    Female,
    /// A male voice.
    Male,
}

/// One text-to-speech voice, as `message.voice` and `message.language` take it.
#[derive(SimpleObject, Clone, Debug)]
pub struct Voice {
    /// The voice's name for `message.voice`, e.g. Google.vi-VN-Wavenet-A.
    pub name: &'static str,
    /// The language it speaks, for `message.language` (BCP 47, e.g. vi-VN).
    pub language: &'static str,
    /// Female or male.
    pub gender: VoiceGender,
}

const fn voice(name: &'static str, language: &'static str, gender: VoiceGender) -> Voice {
    Voice {
        name,
        language,
        gender,
    }
}

use VoiceGender::{Female, Male};

pub const VOICES: &[Voice] = &[
    voice("Google.vi-VN-Standard-A", "vi-VN", Female),
    voice("Google.vi-VN-Standard-B", "vi-VN", Male),
    voice("Google.vi-VN-Standard-C", "vi-VN", Female),
    voice("Google.vi-VN-Standard-D", "vi-VN", Male),
    voice("Google.vi-VN-Wavenet-A", "vi-VN", Female),
    voice("Google.vi-VN-Wavenet-B", "vi-VN", Male),
    voice("Google.vi-VN-Wavenet-C", "vi-VN", Female),
    voice("Google.vi-VN-Wavenet-D", "vi-VN", Male),
    voice("Google.vi-VN-Neural2-A", "vi-VN", Female),
    voice("Google.vi-VN-Neural2-D", "vi-VN", Male),
    voice("Google.vi-VN-Chirp3-HD-Aoede", "vi-VN", Female),
    voice("Google.vi-VN-Chirp3-HD-Charon", "vi-VN", Male),
    voice("Google.vi-VN-Chirp3-HD-Fenrir", "vi-VN", Male),
    voice("Google.vi-VN-Chirp3-HD-Kore", "vi-VN", Female),
    voice("Google.vi-VN-Chirp3-HD-Leda", "vi-VN", Female),
    voice("Google.vi-VN-Chirp3-HD-Orus", "vi-VN", Male),
    voice("Google.vi-VN-Chirp3-HD-Puck", "vi-VN", Male),
    voice("Google.vi-VN-Chirp3-HD-Zephyr", "vi-VN", Female),
    voice("Polly.Joanna", "en-US", Female),
    voice("Polly.Salli", "en-US", Female),
    voice("Polly.Matthew", "en-US", Male),
    voice("Polly.Joey", "en-US", Male),
];

/// The voices of one language (all of them for `None`), in the catalogue's order.
pub fn of(language: Option<&str>) -> Vec<Voice> {
    VOICES
        .iter()
        .filter(|v| language.is_none_or(|l| v.language.eq_ignore_ascii_case(l)))
        .cloned()
        .collect()
}

/// Whether `voice` exists and speaks `language`.
pub fn matches(voice: &str, language: &str) -> bool {
    VOICES
        .iter()
        .any(|v| v.name == voice && v.language.eq_ignore_ascii_case(language))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_voice_is_listed_and_languages_filter() {
        assert!(matches(
            crate::campaigns::settings::DEFAULT_VOICE,
            crate::campaigns::settings::DEFAULT_LANGUAGE
        ));
        assert!(!matches("Google.vi-VN-Wavenet-A", "en-US"));
        assert!(of(Some("vi-VN")).iter().all(|v| v.language == "vi-VN"));
        assert_eq!(of(None).len(), VOICES.len());
    }
}
