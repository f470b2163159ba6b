//! Fair shares of the delivery slots.
//!
//! A delivery attempt holds a slot for up to its channel's timeout. Taken
//! oldest first from one shared pool, a receiver that never answers (an SMTP
//! server that accepts and stays silent, a webhook that answers a byte a
//! second) would hold every slot in turn, and everyone else's pages would
//! queue behind its backlog. So each channel has its own cap within the
//! total, a full channel's notifications are left out of the due listing,
//! and the slots still free are handed out round-robin across channels.
//!
//! On a throttled channel a contact's due notifications travel together:
//! one delivery (one slot) takes all of them listed, the contact is busy
//! until it ends, and the due listing leaves that contact out meanwhile, so
//! one person's storm takes one slot and is never listed ahead of others.

use crate::store::{DueFilter, Notification, NotificationId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// How many deliveries may run at once: in total and per channel; and
/// which notifications are throttled per contact.
pub trait Caps {
    fn total(&self) -> usize;
    fn of_channel(&self, channel: &str) -> usize;
    /// Whether `notification` counts against its contact's throttle: its
    /// contact's due notifications are then delivered together.
    fn throttled(&self, notification: &Notification) -> bool;
}

/// The deliveries in flight on this host, by channel and contact.
#[derive(Debug, Default)]
pub struct Lanes {
    in_flight: HashSet<NotificationId>,
    /// Slots taken, by channel.
    per_channel: HashMap<String, usize>,
    busy_contacts: HashSet<String>,
    slots: usize,
}

impl Lanes {
    /// What the next due listing should leave out.
    pub fn filter(&self, caps: &dyn Caps) -> DueFilter {
        DueFilter {
            in_flight: self.in_flight.clone(),
            full_channels: self
                .per_channel
                .iter()
                .filter(|(channel, count)| **count >= caps.of_channel(channel))
                .map(|(channel, _)| channel.clone())
                .collect(),
            busy_contacts: self.busy_contacts.clone(),
            only_contact: None,
        }
    }

    pub fn is_full(&self, caps: &dyn Caps) -> bool {
        self.slots >= caps.total()
    }

    /// Takes a slot on `channel` if its cap and the total allow.
    fn try_start(&mut self, channel: &str, caps: &dyn Caps) -> bool {
        let busy = self.per_channel.get(channel).copied().unwrap_or(0);
        if self.is_full(caps) || busy >= caps.of_channel(channel) {
            return false;
        }
        *self.per_channel.entry(channel.to_string()).or_default() += 1;
        self.slots += 1;
        true
    }

    fn finish(&mut self, slot: &Slot) {
        for id in &slot.ids {
            self.in_flight.remove(id);
        }
        if let Some(contact) = &slot.contact {
            self.busy_contacts.remove(contact);
        }
        if let Some(count) = self.per_channel.get_mut(&slot.channel) {
            *count -= 1;
            if *count == 0 {
                self.per_channel.remove(&slot.channel);
            }
        }
        self.slots -= 1;
    }

    /// Slots taken.
    pub fn busy(&self) -> usize {
        self.slots
    }
}

/// A taken slot; dropping it gives the slot back (and its contact) and
/// wakes the engine so the next due notification of that channel can start.
pub struct Slot {
    lanes: Arc<Mutex<Lanes>>,
    ids: Vec<NotificationId>,
    channel: String,
    contact: Option<String>,
    wake: Arc<tokio::sync::Notify>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.lanes.lock().expect("delivery lanes").finish(self);
        self.wake.notify_one();
    }
}

/// One delivery to start: a notification alone, or a throttled contact's
/// due notifications (oldest first), with the slot they hold.
pub struct Batch {
    pub notifications: Vec<Notification>,
    /// The throttled contact, when they are one.
    pub contact: Option<String>,
    pub slot: Slot,
}

/// Takes slots for as many of `due` as the caps allow, round-robin across
/// channels (oldest first within each), and returns them with their slots;
/// a throttled contact's notifications share one slot.
pub fn take(
    lanes: &Arc<Mutex<Lanes>>,
    due: Vec<Notification>,
    caps: &dyn Caps,
    wake: &Arc<tokio::sync::Notify>,
) -> Vec<Batch> {
    let mut taken: Vec<(Vec<Notification>, Option<String>)> = Vec::new();
    let mut contacts: HashMap<String, usize> = HashMap::new();
    let mut guard = lanes.lock().expect("delivery lanes");
    for notification in round_robin(due) {
        if guard.in_flight.contains(&notification.id) {
            continue;
        }
        let contact = caps.throttled(&notification).then(|| notification.recipient.contact_key());
        if let Some(key) = &contact {
            if let Some(&index) = contacts.get(key) {
                guard.in_flight.insert(notification.id);
                taken[index].0.push(notification);
                continue;
            }
            if guard.busy_contacts.contains(key) {
                continue;
            }
        }
        if guard.is_full(caps) {
            // Only a taken contact's notifications can still join.
            continue;
        }
        if guard.try_start(&notification.recipient.channel, caps) {
            guard.in_flight.insert(notification.id);
            if let Some(key) = &contact {
                guard.busy_contacts.insert(key.clone());
                contacts.insert(key.clone(), taken.len());
            }
            taken.push((vec![notification], contact));
        }
    }
    drop(guard);
    taken
        .into_iter()
        .map(|(mut notifications, contact)| {
            notifications.sort_by_key(|n| (n.next_attempt_at, n.id));
            let slot = Slot {
                lanes: lanes.clone(),
                ids: notifications.iter().map(|n| n.id).collect(),
                channel: notifications[0].recipient.channel.clone(),
                contact: contact.clone(),
                wake: wake.clone(),
            };
            Batch { notifications, contact, slot }
        })
        .collect()
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
        fn throttled(&self, notification: &Notification) -> bool {
            notification.recipient.address.is_some()
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
            held: false,
            change: None,
            after_minutes: 0,
        }
    }

    fn ids(taken: &[Batch]) -> Vec<NotificationId> {
        taken.iter().map(|batch| batch.notifications[0].id).collect()
    }

    fn to(id: NotificationId, channel: &str, address: &str) -> Notification {
        let mut notification = due(id, channel);
        notification.recipient.address = Some(address.into());
        notification
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
    fn a_throttled_contacts_notifications_share_one_slot_and_others_are_not_held_up() {
        let (lanes, wake) = setup();
        let caps = Fixed { total: 2, per_channel: 2 };
        // A storm for ada, then one page for grace and one unthrottled.
        let mut listed: Vec<_> = (1..=10).map(|id| to(id, "hook", "ada")).collect();
        listed.push(to(11, "hook", "grace"));
        listed.push(due(12, "team"));
        let taken = take(&lanes, listed, &caps, &wake);
        let groups: Vec<Vec<NotificationId>> =
            taken.iter().map(|b| b.notifications.iter().map(|n| n.id).collect()).collect();
        assert_eq!(groups, vec![(1..=10).collect::<Vec<_>>(), vec![12]]);
        let filter = lanes.lock().unwrap().filter(&caps);
        assert!(filter.busy_contacts.contains("hook\u{1f}ada"));
        assert!(filter.admits(&to(11, "hook", "grace")), "grace is listed next");
        assert!(!filter.admits(&to(13, "hook", "ada")), "ada waits for her delivery");
        drop(taken);
        let filter = lanes.lock().unwrap().filter(&caps);
        assert!(filter.busy_contacts.is_empty() && filter.in_flight.is_empty());
        assert_eq!(lanes.lock().unwrap().busy(), 0);
    }

    #[test]
    fn round_robin_keeps_each_channels_order() {
        let listed = vec![due(1, "a"), due(2, "a"), due(3, "a"), due(4, "b"), due(5, "c")];
        let order: Vec<_> = round_robin(listed).iter().map(|n| n.id).collect();
        assert_eq!(order, vec![1, 4, 5, 2, 3]);
    }
}
