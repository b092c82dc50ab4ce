//! The chat server: the web app (server-side rendered, then hydrated), its static files and
//! the Socket.IO chat, on one port.
//!
//! - [`chat`]: the rules, free of sockets, HTTP and storage.
//! - [`hub`]: the application core: one ordered queue that applies the rules, stores and
//!   delivers; both transports talk to it.
//! - [`socket`]: the Socket.IO transport in front of the hub.
//! - [`http`]: the axum router: pages, forms, session endpoints, files, Socket.IO.
//! - [`storage`]: users, sessions, conversations and messages in SQLite or PostgreSQL.
//! - [`cluster`]: what several server processes share besides the database (Redis).
//! - [`cookie`]: the session cookie, read by both transports.
//! - [`admin_token`]: the administrators' token, for `/admin` and `/metrics`.
//! - [`config`]: layered settings (`Leptos.toml`, file, environment, flags).
//! - [`metrics`]: what the server counts, for `GET /metrics`.

pub mod admin_token;
pub mod chat;
pub mod cluster;
pub mod config;
pub mod cookie;
pub mod http;
pub mod hub;
pub mod metrics;
pub mod socket;
pub mod storage;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::ListenerExt;
use leptos::config::LeptosOptions;
use socketioxide::adapter::Adapter;
use socketioxide::SocketIo;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
use tokio::net::TcpListener;

use crate::cluster::{ClusterBus, ReconnectingDriver};
use crate::config::Settings;
use crate::hub::{ChatHub, HubSettings};
use crate::storage::Store;

/// History reads one socket may have in flight.
const READS_PER_SOCKET: usize = 4;

/// The WebSocket read buffer of each connection (engineioxide's default is 4 KiB). Chat
/// frames are a few hundred bytes; a bigger one is read in several chunks. It is memory
/// every open connection holds, idle or not.
const WS_READ_BUFFER_BYTES: usize = 1024;

/// Serves the chat from `store` on `listener` until `shutdown` completes, then closes every
/// socket and waits up to the configured timeout for open requests. With a Redis URL in
/// `settings`, Socket.IO runs on the Redis adapter (broadcasts reach every server
/// sharing that Redis); a Redis that cannot be reached at start is an error.
pub async fn serve(
    settings: Settings,
    store: Store,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (hub, commands) = ChatHub::new();
    let builder = SocketIo::builder()
        .ping_interval(Duration::from_millis(settings.socket.ping_interval_ms))
        .ping_timeout(Duration::from_millis(settings.socket.ping_timeout_ms))
        .max_payload(settings.socket.max_payload_bytes)
        .max_buffer_size(settings.socket.max_buffered_packets)
        .ws_read_buffer_size(WS_READ_BUFFER_BYTES)
        .ws_max_message_size(
            usize::try_from(settings.socket.max_payload_bytes).unwrap_or(usize::MAX),
        )
        .with_state(hub.clone())
        .with_state(socket::admission::Admission::new(settings.admission()))
        .with_state(settings.admin.clone());
    let Some(redis_url) = settings.cluster.redis_url.clone() else {
        let (socket_layer, io) = builder.build_layer();
        socket::attach(&io);
        socket::admin::attach(&io);
        let parts = Parts {
            hub,
            commands,
            socket_layer,
            io,
            redis: None,
        };
        return serve_on(settings, store, listener, shutdown, parts).await;
    };
    let driver = ReconnectingDriver::connect(&redis_url)
        .await
        .map_err(|error| std::io::Error::other(format!("cannot connect to Redis: {error}")))?;
    let adapter = RedisAdapterCtr::new_with_driver(driver.clone(), RedisAdapterConfig::new());
    let (socket_layer, io) = builder
        .with_adapter::<CustomRedisAdapter<_, ReconnectingDriver>>(adapter)
        .build_layer();
    // With this adapter the namespace exists once it has subscribed to its channels.
    let subscribed = socket::attach(&io).await;
    let admin_subscribed = socket::admin::attach(&io).await;
    subscribed
        .and(admin_subscribed)
        .map_err(|error| std::io::Error::other(format!("cannot subscribe on Redis: {error}")))?;
    tracing::info!("sharing broadcasts through Redis");
    let parts = Parts {
        hub,
        commands,
        socket_layer,
        io,
        redis: Some(driver),
    };
    let store = store.holding_names(chat::SERVER_LEASE);
    serve_on(settings, store, listener, shutdown, parts).await
}

/// What `serve` makes before serving, on either adapter.
struct Parts<A: Adapter> {
    hub: ChatHub,
    commands: tokio::sync::mpsc::UnboundedReceiver<hub::HubCommand>,
    socket_layer: socketioxide::layer::SocketIoLayer<A>,
    io: SocketIo<A>,
    redis: Option<ReconnectingDriver>,
}

async fn serve_on<A: Adapter>(
    settings: Settings,
    store: Store,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    parts: Parts<A>,
) -> std::io::Result<()> {
    let Parts {
        hub,
        commands,
        socket_layer,
        io,
        redis,
    } = parts;
    let bus = match &redis {
        Some(driver) => Some(
            ClusterBus::join(driver.clone(), hub.clone())
                .await
                .map_err(|error| {
                    std::io::Error::other(format!("cannot join the hubs' bus: {error}"))
                })?,
        ),
        None => None,
    };
    let hub_task = tokio::spawn(hub::run(
        io.clone(),
        bus,
        store.clone(),
        commands,
        HubSettings {
            typing_lease: settings.typing_lease(),
            session_grace: settings.session_grace(),
            catch_up_max: settings.chat.catch_up_max,
            reads_per_socket: READS_PER_SOCKET,
            limits: settings.user_limits(),
            logins_per_address: settings.logins_per_address(),
        },
    ));

    // Leptos renders on the tokio runtime; an error means it is already set up.
    let _ = any_spawner::Executor::init_tokio();
    let mut options = leptos_options()?;
    options.site_addr = listener.local_addr()?;
    // The page names the bundle by content (see `http::SiteAssets`), not through
    // cargo-leptos' hash.txt, which would have to sit beside the binary.
    options.hash_files = false;
    options.output_name = http::SiteAssets::init(&options.output_name)
        .bundle_name()
        .into();

    let origins = settings
        .allowed_origins()
        .map_err(|error| std::io::Error::other(format!("--allowed-origins: {error}")))?;
    let proxies = settings
        .trusted_proxies()
        .map_err(|error| std::io::Error::other(format!("--trusted-proxies: {error}")))?;
    let draining = http::Draining::default();
    let state = http::AppState {
        origins: std::sync::Arc::new(origins),
        proxies: std::sync::Arc::new(proxies),
        cookies: settings.cookie_policy(),
        metrics: (settings.server.metrics || settings.admin.is_enabled())
            .then(metrics::init)
            .flatten(),
        metrics_public: settings.server.metrics,
        admin: settings.admin.clone(),
        options,
        hub: hub.clone(),
        store: store.clone(),
        draining: draining.clone(),
        redis,
    };
    let router = http::router(state, socket_layer);
    let grace = settings.shutdown_timeout();
    let drain_delay = settings.drain_delay();
    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    // Chat frames are small and latency matters: no Nagle delay on any connection.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "cannot turn off Nagle's algorithm on a connection");
        }
    });
    // Each request knows the address it came from (for the per-address limits).
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        shutdown.await;
        draining.start();
        if !drain_delay.is_zero() {
            tracing::info!(
                ?drain_delay,
                "shutting down: not ready any more, still serving"
            );
            tokio::time::sleep(drain_delay).await;
        }
        tracing::info!("shutting down: closing sockets");
        io.close().await;
        let _ = draining_tx.send(());
    });
    // Once draining has started, open requests get `grace` to finish.
    let deadline = async move {
        match draining_rx.await {
            Ok(()) => tokio::time::sleep(grace).await,
            Err(_) => std::future::pending().await,
        }
    };
    let result = tokio::select! {
        result = server.into_future() => result,
        () = deadline => {
            tracing::warn!(?grace, "open requests did not finish in time; stopping anyway");
            Ok(())
        }
    };
    // The hub finishes what is queued, then stops, before the database closes.
    hub.stop(hub_task).await;
    store.close().await;
    result
}

/// Leptos' own options (bundle name, site paths, live-reload port), which cargo-leptos
/// passes in the environment, at build time and in `cargo leptos watch`.
fn leptos_options() -> std::io::Result<LeptosOptions> {
    let built_by_cargo_leptos = option_env!("LEPTOS_OUTPUT_NAME").is_some()
        || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    if !built_by_cargo_leptos {
        // `cargo test` / `cargo build`: there is no web bundle to point the page at.
        return Ok(LeptosOptions::builder().output_name("").build());
    }
    leptos::config::get_configuration(None)
        .map(|conf| conf.leptos_options)
        .map_err(|e| std::io::Error::other(format!("leptos configuration: {e}")))
}

/// Opens (creating it if needed) the database `settings` name.
pub async fn open_store(settings: &Settings) -> Result<Store, storage::StorageError> {
    let url = settings.database_url()?;
    let store = Store::connect(&url).await?;
    tracing::info!(database = %url, "database ready");
    Ok(store)
}

/// Binds `settings`' address.
pub async fn bind(settings: &Settings) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(settings.socket_addr()).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}
