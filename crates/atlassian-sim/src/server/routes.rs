//! One table per router: the router and the list of operations it serves are built by the
//! same calls, so [`super::served_operations`] cannot drift from what is actually routed.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post, put};

/// A router under construction plus the `(method, path)` pairs added to it.
pub(crate) struct RouteTable<S> {
    router: Router<S>,
    ops: Vec<(Method, &'static str)>,
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    pub(crate) fn new() -> Self {
        RouteTable {
            router: Router::new(),
            ops: Vec::new(),
        }
    }

    fn add(mut self, method: Method, path: &'static str, route: MethodRouter<S>) -> Self {
        // `Router::route` merges method routers registered for the same path.
        self.router = self.router.route(path, route);
        self.ops.push((method, path));
        self
    }

    pub(crate) fn get<H: Handler<T, S>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::GET, path, get(h))
    }

    pub(crate) fn post<H: Handler<T, S>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::POST, path, post(h))
    }

    pub(crate) fn put<H: Handler<T, S>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::PUT, path, put(h))
    }

    pub(crate) fn into_router(self) -> Router<S> {
        self.router
    }

    pub(crate) fn operations(&self) -> &[(Method, &'static str)] {
        &self.ops
    }
}
