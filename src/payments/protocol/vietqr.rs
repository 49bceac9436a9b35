//! VietQR (NAPAS 247) bank-transfer QR payloads: EMVCo merchant-presented TLV with a
//! CRC-16/CCITT-FALSE trailer.

/// NAPAS's GUID inside the merchant account template (ID 38).
const NAPAS_GUID: &str = "A000000727";
/// Service code for a transfer to an account number (`QRIBFTTC` would be to a card number).
const SERVICE_TO_ACCOUNT: &str = "QRIBFTTA";
const CURRENCY_VND: &str = "704";
const COUNTRY_VN: &str = "VN";
/// EMVCo's limit for 62/08, which is also vietqr.io's limit for `addInfo`.
pub const MAX_PURPOSE_LEN: usize = 25;
pub const MAX_ACCOUNT_LEN: usize = 19;
/// vietqr.io's limit; also keeps the amount field far below the 99-character TLV maximum.
pub const MAX_AMOUNT_DIGITS: usize = 13;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("bank BIN must be 6 digits")]
    BankBin,
    #[error("account number must be 1 to {MAX_ACCOUNT_LEN} ASCII letters or digits")]
    AccountNumber,
    #[error("amount must be positive and at most {MAX_AMOUNT_DIGITS} digits")]
    Amount,
    #[error("purpose must be at most {MAX_PURPOSE_LEN} printable ASCII characters")]
    Purpose,
    #[error("malformed TLV at character {at}")]
    Malformed { at: usize },
}

/// A transfer to a bank account. With an amount the QR is dynamic (one-off), without it static.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer<'a> {
    pub bank_bin: &'a str,
    pub account_number: &'a str,
    pub amount: Option<i64>,
    /// The transfer note (62/08) the bank will echo back in the payer's transaction text.
    pub purpose: &'a str,
}

/// The payload to render as a QR code. Inputs are checked because an oversize or non-ASCII value
/// would silently corrupt the TLV lengths, producing a QR that banking apps refuse.
pub fn payload(transfer: &Transfer<'_>) -> Result<String, Error> {
    let Transfer {
        bank_bin,
        account_number,
        amount,
        purpose,
    } = *transfer;
    if bank_bin.len() != 6 || !bank_bin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::BankBin);
    }
    if account_number.is_empty()
        || account_number.len() > MAX_ACCOUNT_LEN
        || !account_number.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(Error::AccountNumber);
    }
    let amount = amount
        .map(|a| {
            let digits = a.to_string();
            if a <= 0 || digits.len() > MAX_AMOUNT_DIGITS {
                Err(Error::Amount)
            } else {
                Ok(digits)
            }
        })
        .transpose()?;
    if purpose.len() > MAX_PURPOSE_LEN || !purpose.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(Error::Purpose);
    }

    let beneficiary = tlv("00", bank_bin) + &tlv("01", account_number);
    let merchant_account =
        tlv("00", NAPAS_GUID) + &tlv("01", &beneficiary) + &tlv("02", SERVICE_TO_ACCOUNT);
    let mut out = tlv("00", "01");
    out += &tlv("01", if amount.is_some() { "12" } else { "11" });
    out += &tlv("38", &merchant_account);
    out += &tlv("53", CURRENCY_VND);
    if let Some(amount) = &amount {
        out += &tlv("54", amount);
    }
    out += &tlv("58", COUNTRY_VN);
    // EMVCo forbids zero-length values, so an empty note drops the whole template.
    if !purpose.is_empty() {
        out += &tlv("62", &tlv("08", purpose));
    }
    out += "6304";
    let crc = crc16_ccitt_false(out.as_bytes());
    out += &format!("{crc:04X}");
    Ok(out)
}

/// Callers guarantee `value` is ASCII and at most 99 characters.
fn tlv(id: &str, value: &str) -> String {
    format!("{id}{:02}{value}", value.len())
}

/// Polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR.
pub fn crc16_ccitt_false(data: &[u8]) -> u16 {
    data.iter().fold(0xFFFF, |crc, &byte| {
        (0..8).fold(crc ^ (u16::from(byte) << 8), |crc, _| {
            if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            }
        })
    })
}

/// Decodes one level of TLV into `(id, value)` pairs in order. Templates (38, 62, ...) come back
/// as raw values; pass them to `parse` again to decode their contents. Lengths count characters,
/// as EMVCo specifies, so a UTF-8 value (e.g. a merchant name) decodes correctly.
pub fn parse(payload: &str) -> Result<Vec<(String, String)>, Error> {
    let mut fields = Vec::new();
    let mut rest = payload;
    let mut at = 0;
    while !rest.is_empty() {
        let malformed = Error::Malformed { at };
        let header = rest.get(..4).ok_or(malformed)?;
        if !header.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed);
        }
        let len: usize = header[2..].parse().map_err(|_| malformed)?;
        let body = &rest[4..];
        let end = match body.char_indices().nth(len) {
            Some((end, _)) => end,
            None if body.chars().count() == len => body.len(),
            None => return Err(malformed),
        };
        fields.push((header[..2].to_owned(), body[..end].to_owned()));
        rest = &body[end..];
        at += 4 + len;
    }
    Ok(fields)
}

/// Whether the trailing `6304XXXX` matches the CRC of everything before `XXXX`.
pub fn verify_crc(payload: &str) -> bool {
    let Some(split) = payload.len().checked_sub(4) else {
        return false;
    };
    let (Some(signed), Some(claimed)) = (payload.get(..split), payload.get(split..)) else {
        return false;
    };
    if !signed.ends_with("6304") || !claimed.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    u16::from_str_radix(claimed, 16).is_ok_and(|crc| crc == crc16_ccitt_false(signed.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLISHED: &str = "00020101021238560010A0000007270126000697041501121133666688880208QRIBFTTA53037045405790005802VN62220818Ung Ho Quy Vac Xin63043ACF";

    fn published_transfer() -> Transfer<'static> {
        Transfer {
            bank_bin: "970415",
            account_number: "113366668888",
            amount: Some(79_000),
            purpose: "Ung Ho Quy Vac Xin",
        }
    }

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(id, value)| ((*id).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn published_example_is_reproduced_exactly() {
        assert_eq!(payload(&published_transfer()).as_deref(), Ok(PUBLISHED));
    }

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
        assert_eq!(crc16_ccitt_false(b""), 0xFFFF);
    }

    #[test]
    fn crc_verification() {
        assert!(verify_crc(PUBLISHED));
        assert!(verify_crc(&PUBLISHED.replace("3ACF", "3acf")));
        assert!(!verify_crc(&PUBLISHED.replace("79000", "79001")));
        assert!(!verify_crc(&PUBLISHED.replace("3ACF", "3ACE")));
        assert!(!verify_crc(&PUBLISHED[..PUBLISHED.len() - 1]));
        assert!(!verify_crc(""));
        assert!(!verify_crc("6304"));
        assert!(!verify_crc("6304ạạ"));
    }

    #[test]
    fn static_qr_without_amount_or_note() {
        let transfer = Transfer {
            amount: None,
            purpose: "",
            ..published_transfer()
        };
        let out = payload(&transfer).expect("valid transfer");
        assert!(out.starts_with("000201010211"));
        assert!(verify_crc(&out));
        let ids: Vec<String> = parse(&out)
            .expect("own output parses")
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["00", "01", "38", "53", "58", "63"]);
    }

    #[test]
    fn parse_published_example() {
        let fields = parse(PUBLISHED).expect("published example parses");
        assert_eq!(
            fields,
            pairs(&[
                ("00", "01"),
                ("01", "12"),
                (
                    "38",
                    "0010A0000007270126000697041501121133666688880208QRIBFTTA"
                ),
                ("53", "704"),
                ("54", "79000"),
                ("58", "VN"),
                ("62", "0818Ung Ho Quy Vac Xin"),
                ("63", "3ACF"),
            ])
        );
        let merchant = parse(&fields[2].1).expect("template parses");
        assert_eq!(
            merchant,
            pairs(&[
                ("00", "A000000727"),
                ("01", "00069704150112113366668888"),
                ("02", "QRIBFTTA"),
            ])
        );
        assert_eq!(
            parse(&merchant[1].1).expect("beneficiary parses"),
            pairs(&[("00", "970415"), ("01", "113366668888")])
        );
    }

    #[test]
    fn parse_counts_characters_not_bytes() {
        assert_eq!(
            parse("5902Hà6002VN").expect("utf-8 value"),
            pairs(&[("59", "Hà"), ("60", "VN")])
        );
    }

    #[test]
    fn parse_rejects_malformed_input() {
        assert_eq!(parse("000"), Err(Error::Malformed { at: 0 }));
        assert_eq!(parse("0003ab"), Err(Error::Malformed { at: 0 }));
        assert_eq!(parse("000201x"), Err(Error::Malformed { at: 6 }));
        assert_eq!(parse("0A0201"), Err(Error::Malformed { at: 0 }));
        assert_eq!(parse("ạạ"), Err(Error::Malformed { at: 0 }));
        assert_eq!(parse(""), Ok(Vec::new()));
    }

    #[test]
    fn invalid_inputs_are_refused() {
        let base = published_transfer();
        let cases = [
            (
                Transfer {
                    bank_bin: "97041",
                    ..base
                },
                Error::BankBin,
            ),
            (
                Transfer {
                    bank_bin: "97041x",
                    ..base
                },
                Error::BankBin,
            ),
            (
                Transfer {
                    account_number: "",
                    ..base
                },
                Error::AccountNumber,
            ),
            (
                Transfer {
                    account_number: "12345678901234567890",
                    ..base
                },
                Error::AccountNumber,
            ),
            (
                Transfer {
                    account_number: "1133-6666",
                    ..base
                },
                Error::AccountNumber,
            ),
            (
                Transfer {
                    amount: Some(0),
                    ..base
                },
                Error::Amount,
            ),
            (
                Transfer {
                    amount: Some(-5),
                    ..base
                },
                Error::Amount,
            ),
            (
                Transfer {
                    amount: Some(10_000_000_000_000),
                    ..base
                },
                Error::Amount,
            ),
            (
                Transfer {
                    purpose: "Nạp tiền",
                    ..base
                },
                Error::Purpose,
            ),
            (
                Transfer {
                    purpose: "12345678901234567890123456",
                    ..base
                },
                Error::Purpose,
            ),
        ];
        for (transfer, error) in cases {
            assert_eq!(payload(&transfer), Err(error), "{transfer:?}");
        }
    }
}
