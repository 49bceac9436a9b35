//! Resource JSON exactly as Twilio shapes it (see reference/twilio.md §1.5-1.9).

use serde_json::{json, Value};

use super::state::{Available, EmuAccount, EmuCall, EmuNumber};
use crate::twilio::types::rfc2822;

fn account_uri(sid: &str) -> String {
    format!("/2010-04-01/Accounts/{sid}")
}

pub fn account(a: &EmuAccount) -> Value {
    let base = account_uri(&a.sid);
    json!({
        "sid": a.sid,
        "friendly_name": a.friendly_name,
        "status": a.status,
        "type": "Full",
        "owner_account_sid": a.sid,
        "auth_token": a.auth_token,
        "date_created": rfc2822(a.created),
        "date_updated": rfc2822(a.created),
        "uri": format!("{base}.json"),
        "subresource_uris": {
            "calls": format!("{base}/Calls.json"),
            "incoming_phone_numbers": format!("{base}/IncomingPhoneNumbers.json"),
            "available_phone_numbers": format!("{base}/AvailablePhoneNumbers.json"),
            "balance": format!("{base}/Balance.json"),
        },
    })
}

pub fn balance(a: &EmuAccount) -> Value {
    json!({"account_sid": a.sid, "balance": a.balance, "currency": "USD"})
}

pub fn call(c: &EmuCall) -> Value {
    let uri = format!("{}/Calls/{}.json", account_uri(&c.account_sid), c.sid);
    json!({
        "sid": c.sid,
        "account_sid": c.account_sid,
        "api_version": "2010-04-01",
        "to": c.to,
        "to_formatted": c.to,
        "from": c.from,
        "from_formatted": c.from,
        "phone_number_sid": c.phone_number_sid,
        "status": c.status,
        "direction": c.direction,
        "answered_by": c.answered_by,
        "date_created": rfc2822(c.created),
        "date_updated": rfc2822(c.updated),
        "start_time": c.start_time.map(rfc2822),
        "end_time": c.end_time.map(rfc2822),
        "duration": c.duration.map(|d| d.to_string()),
        "price": c.duration.map(|d| format!("-{:.5}", f64::from(d.div_ceil(60)) * 0.013)),
        "price_unit": "USD",
        "parent_call_sid": c.parent_call_sid,
        "forwarded_from": null,
        "group_sid": null,
        "caller_name": null,
        "queue_time": "0",
        "trunk_sid": null,
        "uri": uri,
        "subresource_uris": {
            "notifications": uri.replace(".json", "/Notifications.json"),
            "recordings": uri.replace(".json", "/Recordings.json"),
            "events": uri.replace(".json", "/Events.json"),
        },
    })
}

pub fn number(n: &EmuNumber) -> Value {
    json!({
        "sid": n.sid,
        "account_sid": n.account_sid,
        "phone_number": n.phone_number,
        "friendly_name": n.friendly_name,
        "voice_url": n.voice_url,
        "voice_method": n.voice_method,
        "voice_fallback_url": null,
        "voice_fallback_method": "POST",
        "voice_caller_id_lookup": false,
        "voice_application_sid": null,
        "voice_receive_mode": "voice",
        "status_callback": n.status_callback,
        "status_callback_method": n.status_callback_method,
        "sms_url": null,
        "sms_method": "POST",
        "sms_fallback_url": null,
        "sms_fallback_method": "POST",
        "sms_application_sid": null,
        "address_sid": null,
        "identity_sid": null,
        "bundle_sid": null,
        "emergency_address_sid": null,
        "emergency_address_status": "unregistered",
        "api_version": "2010-04-01",
        "beta": false,
        "origin": "twilio",
        "status": "in-use",
        "type": "local",
        "trunk_sid": null,
        "emergency_status": "Inactive",
        "address_requirements": "none",
        "capabilities": {"voice": true, "sms": false, "mms": false, "fax": false},
        "date_created": rfc2822(n.created),
        "date_updated": rfc2822(n.updated),
        "uri": format!("{}/IncomingPhoneNumbers/{}.json", account_uri(&n.account_sid), n.sid),
    })
}

pub fn available(a: &Available) -> Value {
    json!({
        "phone_number": a.phone_number,
        "friendly_name": a.phone_number,
        "iso_country": a.iso_country,
        "locality": a.locality,
        "region": null,
        "postal_code": null,
        "lata": null,
        "rate_center": null,
        "latitude": null,
        "longitude": null,
        "address_requirements": "none",
        "beta": false,
        "capabilities": {"voice": true, "SMS": false, "MMS": false},
    })
}

/// A 2010-style error body; never `type`/`title` (the SDK would read it as RFC 9457).
pub fn error(status: u16, code: u32, message: &str) -> Value {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}
