//! Which connection is evicted at the cap, and the default cap's headroom for everything else.

use super::*;

#[test]
fn eviction_picks_the_oldest_connection_with_nothing_in_progress() {
    let open = Registry::default();
    let tokens: Vec<_> = (0..3).map(|_| CancellationToken::new()).collect();
    let busy: Vec<_> = (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    for (b, t) in busy.iter().zip(&tokens) {
        open.insert(b.clone(), t.clone());
    }
    busy[0].store(1, Ordering::Release);
    assert!(open.evict_oldest_idle());
    assert!(!tokens[0].is_cancelled() && tokens[1].is_cancelled());
    assert!(open.evict_oldest_idle());
    assert!(tokens[2].is_cancelled());
    assert!(!open.evict_oldest_idle(), "the busy one is never evicted");
}

#[test]
fn the_default_cap_leaves_descriptors_for_everything_else() {
    let limits = Limits::new(Duration::from_secs(1), None);
    let fds = usize::try_from(open_files_limit()).unwrap_or(usize::MAX);
    assert!(limits.max_connections <= DEFAULT_MAX_CONNECTIONS);
    assert!(limits.max_connections + RESERVED_FDS <= fds.max(16 + RESERVED_FDS));
    assert_eq!(
        Limits::new(Duration::from_secs(1), Some(7)).max_connections,
        7
    );
}
