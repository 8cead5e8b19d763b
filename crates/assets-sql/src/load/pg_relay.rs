//! A local relay that gives PostgreSQL loads over TCP a socket with `TCP_NODELAY`.
//!
//! sqlx 0.9.0 no longer sets `TCP_NODELAY` on its TCP sockets (transact-rs/sqlx#4335; the
//! fix, #4336, is not released). With Nagle's algorithm on, the few bytes that end a
//! `COPY` (`CopyDone`, after the data) wait until the server acknowledges the data, and the
//! server delays that acknowledgement (~40 ms on Linux): a load of many tables spends a
//! large share of its time waiting. sqlx can connect to a Unix socket instead, so a load
//! over TCP opens the TCP connection itself (with `TCP_NODELAY`), listens on a Unix socket
//! in a private temporary directory, and lets sqlx connect there; a task copies bytes both
//! ways. Everything above the socket is untouched: sqlx still negotiates TLS with the
//! server through the relay and checks its certificate against the URL's host.
//!
//! Remove this module once a sqlx release sets `TCP_NODELAY` again.

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use tokio::net::{TcpStream, UnixListener};

/// Bytes buffered per direction: `COPY` data goes out in large chunks.
const BUFFER: usize = 256 * 1024;

/// How long the relay waits for sqlx to connect to it.
const ACCEPT_WAIT: Duration = Duration::from_secs(30);

/// Keeps a relay running; dropping it ends the relay and removes its socket directory.
pub(crate) struct Relay {
    task: tokio::task::AbortHandle,
    _dir: tempfile::TempDir,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where a connection should go: straight to the server, or through a relay.
pub(crate) enum Route {
    /// A Unix socket already, or the relay could not be set up: sqlx connects as usual.
    Direct(PgConnectOptions),
    /// sqlx connects to the relay's socket; keep the [`Relay`] as long as the connection.
    Relayed(PgConnectOptions, Relay),
}

/// Opens the TCP connection `options` names, with `TCP_NODELAY`, and returns options that
/// reach it through a relay. A connection error (refused, unresolvable host) is returned as
/// it is; a relay that cannot be set up (no temporary directory) falls back to
/// [`Route::Direct`].
pub(crate) async fn route(options: PgConnectOptions) -> std::io::Result<Route> {
    if options.get_socket().is_some() || options.get_host().starts_with('/') {
        return Ok(Route::Direct(options));
    }
    // IPv6 addresses in URLs keep their brackets.
    let host = options
        .get_host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let tcp = TcpStream::connect((host.as_str(), options.get_port())).await?;
    tcp.set_nodelay(true)?;
    let (dir, listener) = match listen(options.get_port()) {
        Ok(l) => l,
        Err(e) => {
            tracing::debug!(error = %e, "no relay for TCP_NODELAY; connecting directly");
            return Ok(Route::Direct(options));
        }
    };
    let task = tokio::spawn(relay(listener, tcp)).abort_handle();
    let options = options.socket(dir.path());
    Ok(Route::Relayed(options, Relay { task, _dir: dir }))
}

/// A Unix socket where sqlx looks for it: `{dir}/.s.PGSQL.{port}`.
fn listen(port: u16) -> std::io::Result<(tempfile::TempDir, UnixListener)> {
    // tempfile creates the directory readable by this user only.
    let dir = tempfile::Builder::new().prefix("jsmkit-pg").tempdir()?;
    let listener = UnixListener::bind(dir.path().join(format!(".s.PGSQL.{port}")))?;
    Ok((dir, listener))
}

/// Accepts one connection and copies bytes between it and `tcp` until either side closes.
async fn relay(listener: UnixListener, mut tcp: TcpStream) {
    let mut local = match tokio::time::timeout(ACCEPT_WAIT, listener.accept()).await {
        Ok(Ok((stream, _))) => stream,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "relay: accept failed");
            return;
        }
        Err(_) => return,
    };
    // One connection only.
    drop(listener);
    if let Err(e) =
        tokio::io::copy_bidirectional_with_sizes(&mut local, &mut tcp, BUFFER, BUFFER).await
    {
        tracing::debug!(error = %e, "relay closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, UnixStream};

    #[tokio::test]
    async fn bytes_pass_both_ways_until_the_client_closes() {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = server.local_addr().unwrap().port();
        let echo = tokio::spawn(async move {
            let (mut s, _) = server.accept().await.unwrap();
            let mut buf = vec![0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
            // Reads until the relay closes its side.
            let mut rest = Vec::new();
            s.read_to_end(&mut rest).await.unwrap();
            rest
        });
        let options = PgConnectOptions::new().host("127.0.0.1").port(port);
        let Route::Relayed(options, relay) = route(options).await.unwrap() else {
            panic!("a TCP target goes through the relay");
        };
        let socket = options
            .get_socket()
            .unwrap()
            .join(format!(".s.PGSQL.{port}"));
        let mut local = UnixStream::connect(&socket).await.unwrap();
        local.write_all(b"hello").await.unwrap();
        let mut back = [0u8; 5];
        local.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"hello");
        local.write_all(b" and bye").await.unwrap();
        drop(local);
        assert_eq!(echo.await.unwrap(), b" and bye");
        drop(relay);
        assert!(!socket.exists(), "the socket directory goes with the relay");
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error_not_a_relay() {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = server.local_addr().unwrap().port();
        drop(server);
        let options = PgConnectOptions::new().host("127.0.0.1").port(port);
        assert!(route(options).await.is_err());
    }

    #[tokio::test]
    async fn unix_sockets_are_used_directly() {
        let options = PgConnectOptions::new().socket("/var/run/postgresql");
        assert!(matches!(route(options).await, Ok(Route::Direct(_))));
    }
}
