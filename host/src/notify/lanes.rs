//! Fair shares of the delivery slots.
//!
//! A delivery attempt holds a slot for up to its channel's timeout. Taken
//! oldest first from one shared pool, a receiver that never answers (an SMTP
//! server that accepts and stays silent, a webhook that answers a byte a
//! second) would hold every slot in turn, and everyone else's pages would
//! queue behind its backlog. So each channel has its own cap within the
//! total, a full channel's notifications are left out of the due listing,
//! and the slots still free are handed out round-robin across channels.

use crate::store::{DueFilter, Notification, NotificationId};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// How many deliveries may run at once: in total and per channel.
pub trait Caps {
    fn total(&self) -> usize;
    fn of_channel(&self, channel: &str) -> usize;
}

/// The deliveries in flight on this host, by channel.
#[derive(Debug, Default)]
pub struct Lanes {
    in_flight: HashMap<NotificationId, String>,
    per_channel: HashMap<String, usize>,
}

impl Lanes {
    /// What the next due listing should leave out.
    pub fn filter(&self, caps: &dyn Caps) -> DueFilter {
        DueFilter {
            in_flight: self.in_flight.keys().copied().collect(),
            full_channels: self
                .per_channel
                .iter()
                .filter(|(channel, count)| **count >= caps.of_channel(channel))
                .map(|(channel, _)| channel.clone())
                .collect(),
        }
    }

    pub fn is_full(&self, caps: &dyn Caps) -> bool {
        self.in_flight.len() >= caps.total()
    }

    /// Takes a slot for `notification` if its channel and the total allow.
    fn try_start(&mut self, notification: &Notification, caps: &dyn Caps) -> bool {
        let channel = &notification.recipient.channel;
        let busy = self.per_channel.get(channel).copied().unwrap_or(0);
        if self.is_full(caps)
            || busy >= caps.of_channel(channel)
            || self.in_flight.contains_key(&notification.id)
        {
            return false;
        }
        self.in_flight.insert(notification.id, channel.clone());
        *self.per_channel.entry(channel.clone()).or_default() += 1;
        true
    }

    fn finish(&mut self, id: NotificationId) {
        let Some(channel) = self.in_flight.remove(&id) else { return };
        if let Some(count) = self.per_channel.get_mut(&channel) {
            *count -= 1;
            if *count == 0 {
                self.per_channel.remove(&channel);
            }
        }
    }

    pub fn busy(&self) -> usize {
        self.in_flight.len()
    }
}

/// A taken slot; dropping it gives the slot back and wakes the engine so
/// the next due notification of that channel can start.
pub struct Slot {
    lanes: Arc<Mutex<Lanes>>,
    id: NotificationId,
    wake: Arc<tokio::sync::Notify>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.lanes.lock().expect("delivery lanes").finish(self.id);
        self.wake.notify_one();
    }
}

/// Takes slots for as many of `due` as the caps allow, round-robin across
/// channels (oldest first within each), and returns them with their slots.
pub fn take(
    lanes: &Arc<Mutex<Lanes>>,
    due: Vec<Notification>,
    caps: &dyn Caps,
    wake: &Arc<tokio::sync::Notify>,
) -> Vec<(Notification, Slot)> {
    let mut taken = Vec::new();
    let mut guard = lanes.lock().expect("delivery lanes");
    for notification in round_robin(due) {
        if guard.is_full(caps) {
            break;
        }
        if guard.try_start(&notification, caps) {
            let slot = Slot { lanes: lanes.clone(), id: notification.id, wake: wake.clone() };
            taken.push((notification, slot));
        }
    }
    taken
}

/// `due` reordered so that channels take turns: the oldest of each channel,
/// then the second oldest of each, and so on.
fn round_robin(due: Vec<Notification>) -> Vec<Notification> {
    let mut order: Vec<String> = Vec::new();
    let mut queues: HashMap<String, VecDeque<Notification>> = HashMap::new();
    for notification in due {
        let channel = notification.recipient.channel.clone();
        if !queues.contains_key(&channel) {
            order.push(channel.clone());
        }
        queues.entry(channel).or_default().push_back(notification);
    }
    let mut fair = Vec::new();
    while !queues.is_empty() {
        for channel in &order {
            if let Some(queue) = queues.get_mut(channel) {
                match queue.pop_front() {
                    Some(notification) => fair.push(notification),
                    None => {
                        queues.remove(channel);
                    }
                }
            }
        }
    }
    fair
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DeliveryStatus, NotificationKind, Recipient};

    struct Fixed {
        total: usize,
        per_channel: usize,
    }

    impl Caps for Fixed {
        fn total(&self) -> usize {
            self.total
        }
        fn of_channel(&self, _: &str) -> usize {
            self.per_channel
        }
    }

    fn due(id: NotificationId, channel: &str) -> Notification {
        Notification {
            id,
            incident: id,
            kind: NotificationKind::Triggered,
            level: 0,
            round: 0,
            recipient: Recipient { channel: channel.into(), person: None, address: None },
            created_at: id,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: id,
            messages_sent: 0,
            last_error: None,
            sent_at: None,
            version: 1,
        }
    }

    fn ids(taken: &[(Notification, Slot)]) -> Vec<NotificationId> {
        taken.iter().map(|(n, _)| n.id).collect()
    }

    fn setup() -> (Arc<Mutex<Lanes>>, Arc<tokio::sync::Notify>) {
        (Arc::default(), Arc::new(tokio::sync::Notify::new()))
    }

    #[test]
    fn a_channel_takes_no_more_than_its_cap_and_the_rest_go_to_others() {
        let (lanes, wake) = setup();
        let caps = Fixed { total: 16, per_channel: 4 };
        // Ten old notifications of a stalled channel before one healthy one.
        let mut listed: Vec<_> = (1..=10).map(|id| due(id, "tarpit")).collect();
        listed.push(due(11, "healthy"));
        let taken = take(&lanes, listed, &caps, &wake);
        assert_eq!(ids(&taken), vec![1, 11, 2, 3, 4]);
        let filter = lanes.lock().unwrap().filter(&caps);
        assert!(filter.full_channels.contains("tarpit"));
        assert!(!filter.full_channels.contains("healthy"));
        assert_eq!(filter.in_flight.len(), 5);
    }

    #[test]
    fn the_total_cap_holds_and_a_dropped_slot_is_given_back() {
        let (lanes, wake) = setup();
        let caps = Fixed { total: 3, per_channel: 2 };
        let listed = vec![due(1, "a"), due(2, "a"), due(3, "b"), due(4, "b"), due(5, "c")];
        let mut taken = take(&lanes, listed, &caps, &wake);
        assert_eq!(ids(&taken), vec![1, 3, 5]);
        assert!(lanes.lock().unwrap().is_full(&caps));
        assert!(take(&lanes, vec![due(2, "a")], &caps, &wake).is_empty());
        taken.remove(0); // notification 1 finishes
        assert_eq!(lanes.lock().unwrap().busy(), 2);
        assert_eq!(ids(&take(&lanes, vec![due(2, "a")], &caps, &wake)), vec![2]);
    }

    #[test]
    fn a_notification_in_flight_is_not_started_twice() {
        let (lanes, wake) = setup();
        let caps = Fixed { total: 16, per_channel: 4 };
        let _first = take(&lanes, vec![due(1, "a")], &caps, &wake);
        assert!(take(&lanes, vec![due(1, "a")], &caps, &wake).is_empty());
        assert!(lanes.lock().unwrap().filter(&caps).in_flight.contains(&1));
    }

    #[test]
    fn round_robin_keeps_each_channels_order() {
        let listed = vec![due(1, "a"), due(2, "a"), due(3, "a"), due(4, "b"), due(5, "c")];
        let order: Vec<_> = round_robin(listed).iter().map(|n| n.id).collect();
        assert_eq!(order, vec![1, 4, 5, 2, 3]);
    }
}
