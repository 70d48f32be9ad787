//! The live identities of a vault, at most so many: a map, and an order of use that forgets the
//! least recently used. Plain on purpose (as rustls's `limited_cache`): each use is a hash
//! lookup and, on a hit, a bump of a counter; eviction scans for the oldest, which happens only
//! when a new identity comes in over the bound.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// A bounded map that forgets the least recently used entry.
#[derive(Debug)]
pub(crate) struct Lru<K, V> {
    entries: HashMap<K, (V, u64)>,
    capacity: usize,
    clock: u64,
}

impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity: capacity.max(1),
            clock: 0,
        }
    }

    /// The value of `key`, marked as just used.
    pub(crate) fn get<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(value, used)| {
            *used = clock;
            value.clone()
        })
    }

    /// Keeps `value` under `key`, forgetting the least recently used entry when full.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        self.clock += 1;
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            // A batch of the oldest goes at once, so a steady stream of new keys scans the map
            // once per eighth of its size, not once per key.
            let mut ages: Vec<u64> = self.entries.values().map(|(_, used)| *used).collect();
            let batch = (self.capacity / 8).max(1).min(ages.len());
            let (_, cutoff, _) = ages.select_nth_unstable(batch - 1);
            let cutoff = *cutoff;
            self.entries.retain(|_, (_, used)| *used > cutoff);
        }
        self.entries.insert(key, (value, self.clock));
    }

    /// Forgets `key`.
    pub(crate) fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.entries.remove(key).map(|(value, _)| value)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Lru;

    #[test]
    fn the_least_recently_used_go_first_and_the_bound_holds() {
        let mut lru = Lru::new(16);
        for i in 0..16 {
            lru.insert(i, i);
        }
        // 0 is used again: 1 and 2 are now the oldest.
        assert_eq!(lru.get(&0), Some(0));
        lru.insert(100, 100);
        assert!(lru.len() <= 16);
        assert_eq!(lru.get(&0), Some(0));
        assert_eq!(lru.get(&1), None);
        assert_eq!(lru.get(&100), Some(100));
        for i in 200..10_000 {
            lru.insert(i, i);
            assert!(lru.len() <= 16);
        }
        assert_eq!(lru.remove(&9_999), Some(9_999));
    }
}
