//! One page of a listing, and the one way every paged read cuts it.
//!
//! Listings page by a cursor: an id (incidents, failed deliveries,
//! notifications) or a log entry's sequence. A read takes one item more
//! than the page holds; when that one comes, another page follows, and the
//! cursor of the last item kept asks for it. Both engines read pages
//! through [`Page::read`], so their pages end and continue alike.

/// One page of a listing, in the listing's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as the cursor (`before`, or `after` for a log read forwards)
    /// to get the next page; `None` on the last page.
    pub next: Option<u64>,
}

impl<T> Page<T> {
    /// The page of at most `limit` items (at least one) that `items`, a
    /// read's results in page order, begins with. Takes one more item, to
    /// know whether another page follows, and no further: a lazy iterator
    /// reads a page and one record. `cursor` names an item's place in the
    /// listing.
    pub fn read<E>(
        items: impl IntoIterator<Item = Result<T, E>>,
        limit: usize,
        cursor: impl Fn(&T) -> u64,
    ) -> Result<Page<T>, E> {
        let items = items.into_iter().take(fetch_for(limit)).collect::<Result<Vec<T>, E>>()?;
        Ok(Page::cut(items, limit, cursor))
    }

    /// The page of at most `limit` items (at least one) from `items`,
    /// fetched in page order, [`fetch_for`] of them at most: when there is
    /// one more than the page holds, another page follows, from the last
    /// item kept.
    pub fn cut(mut items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> u64) -> Page<T> {
        let limit = limit.max(1);
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(cursor)
        } else {
            None
        };
        Page { items, next }
    }

    /// The same page with each item turned into another.
    pub fn map<U>(self, each: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(each).collect(), next: self.next }
    }
}

/// How many items a read fetches for a page of `limit`: the page and one
/// more ([`Page::read`] takes them itself; a query with SQL's `LIMIT` asks
/// for them and hands them to [`Page::cut`]).
pub fn fetch_for(limit: usize) -> usize {
    limit.max(1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(items: &[u64], limit: usize) -> Page<u64> {
        Page::read(items.iter().map(|&n| Ok::<_, ()>(n)), limit, |n| *n).unwrap()
    }

    #[test]
    fn a_page_and_one_more_say_another_page_follows_from_the_last_kept() {
        assert_eq!(page(&[9, 8, 7], 2), Page { items: vec![9, 8], next: Some(8) });
    }

    #[test]
    fn the_last_page_has_no_next_cursor() {
        assert_eq!(page(&[9, 8], 2), Page { items: vec![9, 8], next: None });
        assert_eq!(page(&[], 2), Page { items: vec![], next: None });
    }

    #[test]
    fn a_limit_of_zero_reads_one() {
        assert_eq!(page(&[9, 8], 0), Page { items: vec![9], next: Some(9) });
        assert_eq!(fetch_for(0), 2);
    }

    #[test]
    fn reading_stops_after_the_one_more() {
        let mut read = 0;
        let items = (0..100).inspect(|_| read += 1).map(Ok::<u64, ()>);
        Page::read(items, 3, |n| *n).unwrap();
        assert_eq!(read, 4);
    }

    #[test]
    fn an_error_fails_the_page() {
        let items = [Ok(1), Err("damaged"), Ok(3)];
        assert_eq!(Page::read(items, 5, |n: &u64| *n), Err("damaged"));
    }
}
