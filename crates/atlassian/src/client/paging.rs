//! Paging: every paginated endpoint is exposed as a [`Paged`] stream of items.
//!
//! Five styles exist across the APIs; each maps its response to a
//! [`Page`] (items plus the next cursor), and one driver walks the pages. The
//! driver fails with [`Error::Paging`] when a server repeats a cursor (the
//! same `nextPageToken` twice, or an offset that did not move because a page
//! was empty while claiming more), or when a stream exceeds the client's page
//! cap (a server that ignores `startAt` and keeps answering full pages).
//!
//! Offset streams read ahead ([`drive_ahead`]): a task fetches (and parses) the next pages
//! while the consumer works on the current one, [`READ_AHEAD`] page beyond the one being
//! read plus the requests in flight. When pages report a total, the task predicts where the
//! next pages start and, once the consumer has read past two pages, keeps up to
//! [`CONCURRENT_PAGES`] requests in flight (a page that ends elsewhere than predicted drops
//! the guesses and paging goes on from it). Items and errors still arrive in page order,
//! and dropping the stream aborts the task, requests in flight included.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;

use futures_util::Stream;
use serde::{Deserialize, Deserializer};
use tokio::sync::mpsc;
use tracing::Instrument;

use super::error::{Error, Result};
use super::http::{AtlassianClient, Call};

/// A stream of items fetched page by page.
pub type Paged<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

/// One fetched page: its items and where the next one starts (`None`: done).
pub(crate) struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
    /// Where the pages after `next` will start if every page is as full as this one
    /// (offset pages that report a total): a read-ahead stream fetches them concurrently.
    pub ahead: Vec<C>,
}

struct State<T, C, F> {
    fetch: F,
    buf: VecDeque<T>,
    next: Option<C>,
    cursors: Cursors<C>,
}

/// The checks every page request passes: the page cap and no repeated cursor.
struct Cursors<C> {
    op: &'static str,
    max_pages: usize,
    seen: HashSet<C>,
    pages: usize,
}

impl<C: Clone + Eq + Hash> Cursors<C> {
    fn new(op: &'static str, max_pages: usize) -> Self {
        Cursors {
            op,
            max_pages,
            seen: HashSet::new(),
            pages: 0,
        }
    }

    /// Counts a request for `cursor`, or refuses it.
    fn admit(&mut self, cursor: &C) -> Result<()> {
        if self.pages >= self.max_pages {
            return Err(Error::Paging {
                op: self.op,
                reason: format!("more than {} pages", self.max_pages),
            });
        }
        if !self.seen.insert(cursor.clone()) {
            return Err(Error::Paging {
                op: self.op,
                reason: "the server repeated a page cursor (no progress)".into(),
            });
        }
        self.pages += 1;
        Ok(())
    }

    /// Takes back a request that was started but whose page is not used.
    fn forget(&mut self, cursor: &C) {
        if self.seen.remove(cursor) {
            self.pages = self.pages.saturating_sub(1);
        }
    }
}

/// Drives `fetch` from `first` until a page has no next cursor.
pub(crate) fn drive<T, C, F, Fut>(
    op: &'static str,
    max_pages: usize,
    first: C,
    fetch: F,
) -> Paged<T>
where
    T: Send + 'static,
    C: Clone + Eq + Hash + Send + 'static,
    F: FnMut(C) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T, C>>> + Send + 'static,
{
    let state = State {
        fetch,
        buf: VecDeque::new(),
        next: Some(first),
        cursors: Cursors::new(op, max_pages),
    };
    Box::pin(futures_util::stream::try_unfold(
        state,
        move |mut st| async move {
            loop {
                if let Some(item) = st.buf.pop_front() {
                    return Ok(Some((item, st)));
                }
                let Some(cursor) = st.next.take() else {
                    return Ok(None);
                };
                st.cursors.admit(&cursor)?;
                let page = (st.fetch)(cursor).await?;
                st.buf.extend(page.items);
                st.next = page.next;
            }
        },
    ))
}

/// Pages a read-ahead stream keeps ready beyond the one being read (another may be in
/// flight).
pub(crate) const READ_AHEAD: usize = 1;

/// Like [`drive`], with the pages fetched by a task that works ahead of the consumer (see
/// the module docs). The task starts on the first poll; outside a Tokio runtime the
/// stream falls back to [`drive`].
pub(crate) fn drive_ahead<T, C, F, Fut>(
    op: &'static str,
    max_pages: usize,
    first: C,
    fetch: F,
) -> Paged<T>
where
    T: Send + 'static,
    C: Clone + Eq + Hash + Send + 'static,
    F: FnMut(C) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T, C>>> + Send + 'static,
{
    enum Phase<T, C, F> {
        Idle { first: C, fetch: F },
        Running(Ahead<T>),
        Inline(Paged<T>),
        Done,
    }
    let start = Phase::Idle { first, fetch };
    let stream = futures_util::stream::unfold(start, move |phase| async move {
        let mut run = match phase {
            Phase::Idle { first, fetch } => {
                let Ok(rt) = tokio::runtime::Handle::try_current() else {
                    // No runtime to run a task on: page in the consumer instead.
                    let mut inline = drive(op, max_pages, first, fetch);
                    let item = futures_util::StreamExt::next(&mut inline).await?;
                    return Some((item, Phase::Inline(inline)));
                };
                let (tx, rx) = mpsc::channel(READ_AHEAD);
                let task = rt.spawn(
                    produce(Cursors::new(op, max_pages), first, fetch, tx)
                        .instrument(tracing::Span::current()),
                );
                Ahead {
                    rx,
                    items: Vec::new().into_iter(),
                    _task: AbortOnDrop(task.abort_handle()),
                }
            }
            Phase::Running(run) => run,
            Phase::Inline(mut inline) => {
                let item = futures_util::StreamExt::next(&mut inline).await?;
                return Some((item, Phase::Inline(inline)));
            }
            Phase::Done => return None,
        };
        loop {
            if let Some(item) = run.items.next() {
                return Some((Ok(item), Phase::Running(run)));
            }
            match run.rx.recv().await {
                Some(Ok(items)) => run.items = items.into_iter(),
                Some(Err(e)) => return Some((Err(e), Phase::Done)),
                None => return None,
            }
        }
    });
    Box::pin(stream)
}

/// The consumer's side of a read-ahead stream.
struct Ahead<T> {
    rx: mpsc::Receiver<Result<Vec<T>>>,
    items: std::vec::IntoIter<T>,
    _task: AbortOnDrop,
}

/// Aborts the fetching task when the stream goes away.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Page requests a read-ahead stream keeps in flight when it can predict the cursors.
pub(crate) const CONCURRENT_PAGES: usize = 2;

/// One page fetch running as its own task, so its request goes out and its answer is read
/// while the producer waits for the consumer to take a page; aborted when dropped (a
/// dropped guess, a dropped stream).
struct Fetching<O>(tokio::task::JoinHandle<O>);

impl<O> Future for Fetching<O> {
    type Output = Option<O>;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<O>> {
        Pin::new(&mut self.0).poll(cx).map(|joined| match joined {
            Ok(out) => Some(out),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: only when the runtime shuts down, which ends the producer too.
            Err(_) => None,
        })
    }
}

impl<O> Drop for Fetching<O> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Fetches pages from `first` on and hands them over in order; stops after the last page,
/// after an error (which it hands over too), or when the consumer is gone. When a page
/// predicts the next cursors ([`Page::ahead`]), up to [`CONCURRENT_PAGES`] requests run at
/// once; a page that does not end where the next predicted one starts (the data changed
/// size) drops the speculative requests and paging goes on from that page's own cursor.
async fn produce<T, C, F, Fut>(
    mut cursors: Cursors<C>,
    first: C,
    mut fetch: F,
    tx: mpsc::Sender<Result<Vec<T>>>,
) where
    T: Send + 'static,
    C: Clone + Eq + Hash + Send + 'static,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<T, C>>> + Send + 'static,
{
    use futures_util::StreamExt;
    use futures_util::stream::FuturesOrdered;

    let mut next = Some(first);
    let mut planned: VecDeque<C> = VecDeque::new();
    let mut queued: VecDeque<C> = VecDeque::new();
    let mut inflight = FuturesOrdered::new();
    let mut delivered = 0usize;
    loop {
        // Side by side only once the consumer reads on past two pages: a caller that takes
        // the first few items (a search box) costs no speculative requests.
        let limit = if delivered >= 2 { CONCURRENT_PAGES } else { 1 };
        while inflight.len() < limit {
            let Some(cursor) = next.take().or_else(|| planned.pop_front()) else {
                break;
            };
            if let Err(e) = cursors.admit(&cursor) {
                let _ = tx.send(Err(e)).await;
                return;
            }
            queued.push_back(cursor.clone());
            inflight.push_back(Fetching(tokio::spawn(
                fetch(cursor).instrument(tracing::Span::current()),
            )));
        }
        let Some(Some(result)) = inflight.next().await else {
            return;
        };
        queued.pop_front();
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        let broke = match queued.front().or(planned.front()) {
            Some(upcoming) => page.next.as_ref() != Some(upcoming),
            None => false,
        };
        if broke {
            // Not where the prediction said: drop the speculative requests.
            inflight = FuturesOrdered::new();
            for c in queued.drain(..) {
                cursors.forget(&c);
            }
            planned.clear();
        }
        if queued.is_empty() && planned.is_empty() {
            next = page.next;
            planned.extend(page.ahead);
        }
        if tx.send(Ok(page.items)).await.is_err() {
            return;
        }
        delivered += 1;
    }
}

/// `true`, `false`, `"true"` or `"false"` (Assets documents `isLast` as a string).
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        Some(B::Bool(b)) => Some(b),
        Some(B::Text(s)) => match s.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        None => None,
    })
}

/// Offset pages with `isLast`/`total` (Jira `values`, `comments`, `worklogs`;
/// Assets `startAt/maxResults/isLast`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OffsetPage<T> {
    #[serde(
        rename = "values",
        alias = "comments",
        alias = "worklogs",
        default = "Vec::new"
    )]
    values: Vec<T>,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    is_last: Option<bool>,
}

impl<T> OffsetPage<T> {
    fn into_page(self, start: u64) -> Page<T, u64> {
        let n = self.values.len() as u64;
        let next = match self.is_last {
            Some(true) => None,
            Some(false) => Some(start + n),
            None if n == 0 => None,
            None if self.total.is_some_and(|t| start + n >= t) => None,
            None => Some(start + n),
        };
        // With a total, the pages after `next` start every `n` items until the total.
        let ahead = match (next, self.total) {
            (Some(from), Some(total)) if n > 0 => (1..)
                .map(|k| from + k * n)
                .take_while(|c| *c < total)
                .collect(),
            _ => Vec::new(),
        };
        Page {
            items: self.values,
            next,
            ahead,
        }
    }
}

/// JSM pages: `start/limit/size/isLastPage/values`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JsmPage<T> {
    #[serde(default = "Vec::new")]
    values: Vec<T>,
    #[serde(default, deserialize_with = "lenient_bool")]
    is_last_page: Option<bool>,
}

/// `nextPageToken` pages (`issues` of `/search/jql`, `issueChangeLogs` of
/// `/changelog/bulkfetch`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenPage<T> {
    #[serde(
        rename = "values",
        alias = "issues",
        alias = "issueChangeLogs",
        default = "Vec::new"
    )]
    values: Vec<T>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    is_last: Option<bool>,
}

/// Offset + `isLast`/`total` style; `make(startAt)` builds each request. Reads ahead
/// (see [`drive_ahead`]).
pub(crate) fn offset<T, M>(client: &AtlassianClient, make: M) -> Paged<T>
where
    T: for<'de> Deserialize<'de> + Send + 'static,
    M: Fn(u64) -> Call + Send + 'static,
{
    let c = client.clone();
    let op = make(0).op.name;
    drive_ahead(op, client.inner.max_pages, 0u64, move |start| {
        let (c, call) = (c.clone(), make(start));
        async move { Ok(c.json::<OffsetPage<T>>(call).await?.into_page(start)) }
    })
}

/// Legacy offset style answering a bare array: a short page ends the stream.
pub(crate) fn legacy<T, M>(client: &AtlassianClient, page_size: u64, make: M) -> Paged<T>
where
    T: for<'de> Deserialize<'de> + Send + 'static,
    M: Fn(u64) -> Call + Send + 'static,
{
    let c = client.clone();
    let op = make(0).op.name;
    drive(op, client.inner.max_pages, 0u64, move |start| {
        let (c, call) = (c.clone(), make(start));
        async move {
            let items = c.json::<Vec<T>>(call).await?;
            let n = items.len() as u64;
            let next = (n > 0 && n >= page_size).then_some(start + n);
            Ok(Page {
                items,
                next,
                ahead: Vec::new(),
            })
        }
    })
}

/// `nextPageToken` style; `make(token)` builds each request.
pub(crate) fn token<T, M>(client: &AtlassianClient, make: M) -> Paged<T>
where
    T: for<'de> Deserialize<'de> + Send + 'static,
    M: Fn(Option<String>) -> Call + Send + 'static,
{
    let c = client.clone();
    let op = make(None).op.name;
    drive(
        op,
        client.inner.max_pages,
        None,
        move |tok: Option<String>| {
            let (c, call) = (c.clone(), make(tok));
            async move {
                let page = c.json::<TokenPage<T>>(call).await?;
                let next = match (page.is_last, page.next_page_token) {
                    (Some(true), _) | (_, None) => None,
                    (_, Some(t)) if t.is_empty() => None,
                    (_, Some(t)) => Some(Some(t)),
                };
                Ok(Page {
                    items: page.values,
                    next,
                    ahead: Vec::new(),
                })
            }
        },
    )
}

/// JSM `start/limit/isLastPage` style; `make(start)` builds each request.
pub(crate) fn jsm<T, M>(client: &AtlassianClient, make: M) -> Paged<T>
where
    T: for<'de> Deserialize<'de> + Send + 'static,
    M: Fn(u64) -> Call + Send + 'static,
{
    let c = client.clone();
    let op = make(0).op.name;
    drive(op, client.inner.max_pages, 0u64, move |start| {
        let (c, call) = (c.clone(), make(start));
        async move {
            let page = c.json::<JsmPage<T>>(call).await?;
            let n = page.values.len() as u64;
            let next = (page.is_last_page == Some(false)).then_some(start + n);
            Ok(Page {
                items: page.values,
                next,
                ahead: Vec::new(),
            })
        }
    })
}
