//! MoMo's signatures and payloads checked against the vectors and examples MoMo publishes.

use super::*;

// Public sandbox pair from MoMo's own Node sample; never valid in production.
const ACCESS_KEY: &str = "F8BBA842ECF85";
const SECRET_KEY: &str = "K951B6PE1waDMi640xX08PD3vg6EkVlz";

fn create_request() -> CreateRequest {
    CreateRequest {
        partner_code: "MOMO".to_owned(),
        access_key: None,
        request_id: "MOMO1712108682648".to_owned(),
        amount: 50_000,
        order_id: "MOMO1712108682648".to_owned(),
        order_info: "Nạp tiền RingCast".to_owned(),
        redirect_url: "https://example.test/momo/return".to_owned(),
        ipn_url: "https://example.test/momo/ipn".to_owned(),
        request_type: REQUEST_TYPE_CAPTURE_WALLET.to_owned(),
        extra_data: String::new(),
        lang: "vi".to_owned(),
        signature: String::new(),
    }
}

fn ipn() -> Ipn {
    Ipn {
        partner_code: "MOMO".to_owned(),
        order_id: "MOMO1712108682648".to_owned(),
        request_id: "MOMO1712108682648".to_owned(),
        amount: 50_000,
        order_info: "Nạp tiền RingCast".to_owned(),
        order_type: ORDER_TYPE_WALLET.to_owned(),
        trans_id: 4_088_878_653,
        result_code: SUCCESS,
        message: "Successful.".to_owned(),
        pay_type: "qr".to_owned(),
        response_time: 1_721_720_663_942,
        extra_data: "eyJza3VzIjoiIn0=".to_owned(),
        signature: "707745c08aafb05df9bb0c7b39acb59eb5420010d97b37f3f9e7fe8f725188df".to_owned(),
    }
}

// Expected hex values were computed independently with Python's `hmac` module.
#[test]
fn create_signature_layout_and_value() {
    let mut req = create_request();
    assert_eq!(
        create_raw(ACCESS_KEY, &req),
        "accessKey=F8BBA842ECF85&amount=50000&extraData=\
         &ipnUrl=https://example.test/momo/ipn&orderId=MOMO1712108682648\
         &orderInfo=Nạp tiền RingCast&partnerCode=MOMO\
         &redirectUrl=https://example.test/momo/return&requestId=MOMO1712108682648\
         &requestType=captureWallet"
    );
    let signature = create_signature(ACCESS_KEY, SECRET_KEY, &req);
    assert_eq!(
        signature,
        "3ab3a234c8a6bec2cd9144bb9d80ae094698bf85daa0649f1c6ee1a82c9cbd4d"
    );
    req.signature = signature;
    assert!(verify_create(ACCESS_KEY, SECRET_KEY, &req));
    // A client-sent accessKey must not change what is signed.
    req.access_key = Some("attacker".to_owned());
    assert!(verify_create(ACCESS_KEY, SECRET_KEY, &req));
    req.order_info = "Nap tien RingCast".to_owned();
    assert!(!verify_create(ACCESS_KEY, SECRET_KEY, &req));
}

#[test]
fn ipn_signature_layout_and_value() {
    let ipn = ipn();
    assert_eq!(
        ipn_raw(ACCESS_KEY, &ipn),
        "accessKey=F8BBA842ECF85&amount=50000&extraData=eyJza3VzIjoiIn0=\
         &message=Successful.&orderId=MOMO1712108682648&orderInfo=Nạp tiền RingCast\
         &orderType=momo_wallet&partnerCode=MOMO&payType=qr&requestId=MOMO1712108682648\
         &responseTime=1721720663942&resultCode=0&transId=4088878653"
    );
    assert_eq!(ipn_signature(ACCESS_KEY, SECRET_KEY, &ipn), ipn.signature);
    assert!(verify_ipn(ACCESS_KEY, SECRET_KEY, &ipn));
}

#[test]
fn tampered_or_wrongly_keyed_ipn_fails() {
    let mut changed = ipn();
    changed.amount = 500_000;
    assert!(!verify_ipn(ACCESS_KEY, SECRET_KEY, &changed));
    let mut changed = ipn();
    changed.result_code = USER_DENIED;
    assert!(!verify_ipn(ACCESS_KEY, SECRET_KEY, &changed));
    assert!(!verify_ipn(ACCESS_KEY, "another-secret", &ipn()));
    assert!(!verify_ipn("another-access", SECRET_KEY, &ipn()));
}

#[test]
fn query_signature_layout_and_value() {
    let req = QueryRequest {
        partner_code: "MOMO".to_owned(),
        request_id: "MOMO1712108682648".to_owned(),
        order_id: "MOMO1712108682648".to_owned(),
        lang: "vi".to_owned(),
        signature: "9c4bda2145f9f8407182b327f92e313d74f8ee6cb3560a36a8c22b66b561ee31".to_owned(),
    };
    assert_eq!(
        query_raw(ACCESS_KEY, &req),
        "accessKey=F8BBA842ECF85&orderId=MOMO1712108682648&partnerCode=MOMO\
         &requestId=MOMO1712108682648"
    );
    assert_eq!(query_signature(ACCESS_KEY, SECRET_KEY, &req), req.signature);
    assert!(verify_query(ACCESS_KEY, SECRET_KEY, &req));
}

#[test]
fn doc_ipn_example_parses() {
    let body = r#"{"orderType":"momo_wallet","amount":1000,"partnerCode":"MOMOT5BZ20231213_TEST","orderId":"Partner_Transaction_ID_1721720620078","extraData":"eyJza3VzIjoiIn0=","signature":"7b9f4ca7cf0d","transId":4088878653,"responseTime":1721720663942,"resultCode":0,"message":"Successful.","payType":"qr","requestId":"Request_ID_1721720620078","orderInfo":"Thank you for your purchase at MoMo_test"}"#;
    let ipn: Ipn = serde_json::from_str(body).expect("doc example");
    assert_eq!(ipn.amount, 1000);
    assert_eq!(ipn.trans_id, 4_088_878_653);
    assert_eq!(ipn.pay_type, "qr");
    assert_eq!(ipn.order_id, "Partner_Transaction_ID_1721720620078");
}

#[test]
fn create_request_json_accepts_and_omits_access_key() {
    let mut req = create_request();
    let json = serde_json::to_value(&req).expect("serializable");
    assert_eq!(json["partnerCode"], "MOMO");
    assert_eq!(json["ipnUrl"], "https://example.test/momo/ipn");
    assert!(json.get("accessKey").is_none());
    req.access_key = Some(ACCESS_KEY.to_owned());
    let json = serde_json::to_string(&req).expect("serializable");
    let back: CreateRequest = serde_json::from_str(&json).expect("round trip");
    assert_eq!(back.access_key.as_deref(), Some(ACCESS_KEY));
}

#[test]
fn query_response_defaults_missing_trans_fields() {
    let body = r#"{"partnerCode":"MOMO","requestId":"r1","orderId":"o1","amount":50000,"resultCode":1000,"message":"pending","responseTime":1721720663942}"#;
    let resp: QueryResponse = serde_json::from_str(body).expect("parses");
    assert_eq!(resp.trans_id, 0);
    assert_eq!(resp.pay_type, "");
    assert_eq!(resp.result_code, PENDING);
}

#[test]
fn final_failures_follow_momo_table() {
    for code in [
        98, 99, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1017, 1026, 1080, 1081, 1088, 2019, 4001,
        4002, 4100,
    ] {
        assert!(is_final_failure(code), "{code} is final");
    }
    for code in [
        0, 10, 11, 12, 13, 20, 21, 22, 40, 41, 42, 43, 45, 47, 1000, 7000, 7002, 9000, 1008,
    ] {
        assert!(!is_final_failure(code), "{code} is not a final failure");
    }
}

/// Published: a create request signed with MoMo's public sandbox keys (code-index id
/// 35886342581), including Vietnamese text in orderInfo.
#[test]
fn published_create_vector() {
    let request = CreateRequest {
        partner_code: "MOMOBKUN20180529".into(),
        access_key: None,
        request_id: "f7a8f62f4234-0bba-405f-8178-1a516ea1fe3c".into(),
        amount: 10000,
        order_id: "1629181466064:0123456778".into(),
        order_info: "Thanh toán qua ví MoMo".into(),
        redirect_url: "https://webhook.site/94e534cb-a54a-4313-8e91-c42f7aa2e145".into(),
        ipn_url: "https://webhook.site/94e534cb-a54a-4313-8e91-c42f7aa2e145".into(),
        request_type: "captureWallet".into(),
        extra_data: String::new(),
        lang: "vi".into(),
        signature: String::new(),
    };
    assert_eq!(
        create_signature(
            "klm05TvNBzhg7h7j",
            "at67qH6mk8w5Y1nAyMoYKMWACiEi2bsa",
            &request
        ),
        "a0e6c8676f651f4d8980f04d10ee562fe027d9bacb7df0031c32e3ca42096473"
    );
}

/// Published: result signatures MoMo's sandbox produced (redirects carry the IPN fields),
/// code-index ids 6360523086 and 44349057898.
#[test]
fn published_ipn_vectors() {
    let sandbox = |partner: &str,
                   order: &str,
                   request: &str,
                   amount: i64,
                   info: &str,
                   trans: i64,
                   message: &str,
                   pay_type: &str,
                   time: i64,
                   signature: &str| Ipn {
        partner_code: partner.into(),
        order_id: order.into(),
        request_id: request.into(),
        amount,
        order_info: info.into(),
        order_type: "momo_wallet".into(),
        trans_id: trans,
        result_code: 0,
        message: message.into(),
        pay_type: pay_type.into(),
        response_time: time,
        extra_data: String::new(),
        signature: signature.into(),
    };
    let first = sandbox(
        "MOMOBKUN20180529",
        "df007bbc-dc6d-4bf5-adf0-340f6f0f8bd9",
        "46f4f696-15a1-473e-ac61-4583d1508250",
        41000,
        "Thanh toan don hang NghiaMT Shop",
        3108065159,
        "Successful.",
        "qr",
        1702605117023,
        "3f9dc92d7b4e2b95145362ce0484fdd08f63a003ccea7734a39954e2d187c720",
    );
    assert!(verify_ipn(
        "klm05TvNBzhg7h7j",
        "at67qH6mk8w5Y1nAyMoYKMWACiEi2bsa",
        &first
    ));
    let second = sandbox(
        "MOMO",
        "MOMO1713984978976",
        "MOMO1713984978976",
        1000,
        "30k",
        4029232035,
        "Thành công.",
        "credit",
        1713985045244,
        "0d6f0e650eb5d320c3a65df17a620f01c09d0eae742d3eb7e84177b2ebda6fe0",
    );
    assert!(verify_ipn(
        "F8BBA842ECF85",
        "K951B6PE1waDMi640xX08PD3vg6EkVlz",
        &second
    ));
    assert!(!verify_ipn(
        "klm05TvNBzhg7h7j",
        "at67qH6mk8w5Y1nAyMoYKMWACiEi2bsa",
        &second
    ));
}
