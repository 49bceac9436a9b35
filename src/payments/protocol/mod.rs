//! Wire formats of the Vietnamese payment providers (MoMo, ZaloPay, VietQR, SePay, Casso):
//! request/response shapes and their signatures, shared by the client and the local simulators.

pub mod casso;
pub mod momo;
pub mod sepay;
pub mod vietqr;
pub mod zalopay;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Lowercase hex of HMAC-SHA256(key, msg), the signature form MoMo and ZaloPay both use.
pub fn hmac_sha256_hex(key: &str, msg: &str) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(msg.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Compares without an early exit on the first differing byte, so a forger cannot learn a
/// signature byte by byte from response timings. Lengths are public (fixed-size hex digests).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Finds `prefix` followed by exactly 8 characters of `[A-Z0-9]` anywhere in a bank's transfer
/// text and returns it uppercased. Banks wrap the memo the payer typed in their own text
/// (`MBVCB.3278907687.rcab12cd34.CT tu ...`) and may change its case, so equality is useless.
/// A candidate followed by another alphanumeric character is part of a longer token and skipped.
pub fn find_memo(text: &str, prefix: &str) -> Option<String> {
    const CODE_LEN: usize = 8;
    let bytes = text.as_bytes();
    let prefix = prefix.as_bytes();
    let width = prefix.len() + CODE_LEN;
    (0..bytes.len().saturating_sub(width - 1)).find_map(|start| {
        let end = start + width;
        let (head, code) = bytes[start..end].split_at(prefix.len());
        let matches = head.eq_ignore_ascii_case(prefix)
            && code.iter().all(u8::is_ascii_alphanumeric)
            // Memo bytes are ASCII, so `end` is a char boundary and the next char decodes whole.
            && !text[end..].chars().next().is_some_and(char::is_alphanumeric);
        // `start` is a char boundary too: a valid UTF-8 prefix can only match from one.
        matches.then(|| text[start..end].to_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        assert_eq!(
            hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq("abc123", "abc123"));
        assert!(constant_time_eq("", ""));
        assert!(!constant_time_eq("abc123", "abc124"));
        assert!(!constant_time_eq("abc123", "bbc123"));
        assert!(!constant_time_eq("abc123", "abc12"));
        assert!(!constant_time_eq("abc", "ABC"));
    }

    #[test]
    fn memo_found_inside_bank_text() {
        assert_eq!(
            find_memo("MBVCB.3278907687.rcab12cd34.CT tu 0123 NGUYEN VAN A", "RC"),
            Some("RCAB12CD34".to_owned())
        );
        assert_eq!(find_memo("RCAB12CD34", "rc"), Some("RCAB12CD34".to_owned()));
        assert_eq!(
            find_memo("chuyen tien nap RcZZ99YY00", "RC"),
            Some("RCZZ99YY00".to_owned())
        );
        // Banks sometimes glue the memo to their reference number.
        assert_eq!(
            find_memo("IBFT 0987RCAB12CD34 Nạp tiền", "RC"),
            Some("RCAB12CD34".to_owned())
        );
    }

    #[test]
    fn memo_rejects_longer_shorter_and_foreign_tokens() {
        assert_eq!(find_memo("MBVCB.123.RCAB12CD345.CT", "RC"), None);
        assert_eq!(find_memo("RCAB12CD3", "RC"), None);
        assert_eq!(find_memo("RCAB12-CD34", "RC"), None);
        assert_eq!(find_memo("RCAB12CD3ạ", "RC"), None);
        assert_eq!(find_memo("RCAB12CD34ạ", "RC"), None);
        assert_eq!(find_memo("XXAB12CD34", "RC"), None);
        assert_eq!(find_memo("", "RC"), None);
        assert_eq!(find_memo("ạ", "RC"), None);
    }

    #[test]
    fn memo_skips_a_long_token_and_takes_a_later_exact_one() {
        assert_eq!(
            find_memo("RCAAAAAAAAAA then RC12345678 end", "RC"),
            Some("RC12345678".to_owned())
        );
    }
}
