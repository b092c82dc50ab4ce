use clap::Parser;
use server::config::{Cli, LogFormat, Settings};
use tracing_subscriber::EnvFilter;

/// Where Socket.IO, Engine.IO, WebSocket and HTTP/1 log whole packets at debug and trace
/// level: people's messages and the admin token. Capped at `info` whatever a broader
/// filter asks (`trace`, `engineioxide=debug`: the rest of those crates' debug lines stay
/// available). A directive that names one of their submodules outright
/// (`engineioxide::transport::polling=trace`) is more specific and wins: packet dumps
/// asked for on purpose, on a server whose logs then hold secrets.
const PACKET_DUMPS: [&str; 6] = [
    "socketioxide::client=info",
    "socketioxide::parser=info",
    "engineioxide::socket=info",
    "engineioxide::transport=info",
    "tungstenite::protocol=info",
    "hyper::proto=info",
];

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_new(&settings.server.log).unwrap_or_else(|error| {
        eprintln!(
            "warning: invalid log filter {:?} ({error}); using `info`",
            settings.server.log
        );
        EnvFilter::new("info")
    });
    let filter = PACKET_DUMPS
        .iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, EnvFilter::add_directive);
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match settings.server.log_format {
        LogFormat::Text => logs.init(),
        // Each line names the spans it happened in: the request, the socket.
        LogFormat::Json => logs.json().with_span_list(true).init(),
    }

    let store = match server::open_store(&settings).await {
        Ok(store) => store,
        Err(error) => {
            match settings.database_url() {
                Ok(database) => tracing::error!(%database, %error, "cannot open the database"),
                Err(_) => tracing::error!(%error, "cannot open the database"),
            }
            return std::process::ExitCode::FAILURE;
        }
    };
    let (listener, addr) = match server::bind(&settings).await {
        Ok(bound) => bound,
        Err(error) => {
            tracing::error!(addr = %settings.socket_addr(), %error, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Tests and scripts wait for this exact line.
    tracing::info!("listening on http://{addr}");

    match server::serve(settings, store, listener, shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
