//! Rejection budgets per source and the evidence kept of a rejected body.

use super::*;

#[test]
fn ipv6_sources_share_a_budget_per_64() {
    assert_eq!(source_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
    assert_eq!(source_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
    assert_eq!(source_key("::ffff:203.0.113.5"), "203.0.113.5");
    assert_eq!(source_key("203.0.113.5"), "203.0.113.5");
    assert_eq!(source_key("not an address"), "not an address");
}

#[test]
fn a_rejected_body_is_kept_as_its_head_and_hash() {
    let body = vec![b'a'; 10_000];
    let kept = rejected_record(&body);
    assert_eq!(kept["bytes"], 10_000);
    assert_eq!(kept["truncated"], true);
    assert_eq!(kept["head"].as_str().map(str::len), Some(STORED_HEAD_BYTES));
    assert_eq!(kept["sha256"], hex::encode(Sha256::digest(&body)));
}
