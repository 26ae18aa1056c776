//! Keyset paging: a query fetches `limit + 1` rows; the extra row only says
//! that another page exists.

/// Cuts `items` to `limit` and returns the cursor of the next page (the
/// last kept item's, by `cursor_of`), or `None` on the last page.
pub(crate) fn next_cursor<T, C>(items: &mut Vec<T>, limit: usize, cursor_of: impl Fn(&T) -> C) -> Option<C> {
    if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor_of)
    } else {
        None
    }
}
