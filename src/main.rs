//! The `mip` command line: serve, migrate, openapi, admin.

use std::io::Read;
use std::process::ExitCode;

use actix_web::{HttpServer, web};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use diesel::Connection;
use diesel::pg::PgConnection;
use mip::app::{build_app, openapi};
use mip::auth::{Role, password};
use mip::config::Settings;
use mip::state::AppState;
use mip::{db, demo};

#[derive(Parser)]
#[command(name = "mip", version, about = "The API of the Mois de l'innovation publique")]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API (pending migrations run first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "MIP_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Load the demo data set into an empty database (and allow a generated JWT secret).
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin account (the first one, typically).
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (it never appears in the process list).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    // Whether DATABASE_URL (or --database-url) was given, or the default is in use.
    let database_given = matches.value_source("database_url") != Some(ValueSource::DefaultValue);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    init_logging(&cli.settings);
    let result = match cli.command {
        Command::Serve { bind, demo } => serve(cli.settings, bind, demo, database_given),
        Command::Migrate => connect_and_migrate(&cli.settings).map(|_| ()),
        Command::Openapi => print_openapi(),
        Command::Admin { command: AdminCommand::Create { email, .. } } => create_admin(&cli.settings, &email),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // One line, whatever the cause printed (libpq's messages span several).
            let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if settings.log_format == mip::config::LogFormat::Json {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}

fn connect_and_migrate(settings: &Settings) -> Result<PgConnection, String> {
    db::create_database_if_missing(&settings.database_url)?;
    let mut conn = PgConnection::establish(&settings.database_url).map_err(|e| {
        format!(
            "cannot connect to {}: {e} Is PostgreSQL running? Set DATABASE_URL.",
            db::redact(&settings.database_url)
        )
    })?;
    db::migrate(&mut conn)?;
    Ok(conn)
}

/// For `serve --demo` with no `DATABASE_URL`: the default address when something answers
/// there, else a private cluster (started here, stopped when the returned guard drops).
fn private_database(settings: &mut Settings, database_given: bool, demo_mode: bool) -> Result<Option<Cluster>, String> {
    use db::private_cluster::{self, NO_POSTGRESQL, PrivateCluster};
    if database_given || !demo_mode {
        return Ok(None);
    }
    // The address tried first (a test points it at a closed port).
    let default = std::env::var("MIP_DEFAULT_DATABASE_URL").unwrap_or_else(|_| settings.database_url.clone());
    if private_cluster::answers(&default) {
        settings.database_url = default;
        return Ok(None);
    }
    let programs = private_cluster::find_programs().ok_or(NO_POSTGRESQL)?;
    let cluster = PrivateCluster::start(programs, &private_cluster::default_dir(), true)?;
    tracing::info!(
        dir = %cluster.dir().display(),
        port = cluster.port(),
        "nothing answers at {} and DATABASE_URL is not set: running on a private PostgreSQL, stopped with the service",
        db::redact(&default)
    );
    settings.database_url = cluster.url("mip");
    Ok(Some(Cluster(cluster)))
}

/// Stops the private cluster when the service ends, however it ends.
struct Cluster(db::private_cluster::PrivateCluster);

impl Drop for Cluster {
    fn drop(&mut self) {
        self.0.stop();
    }
}

fn serve(mut settings: Settings, bind: String, demo_mode: bool, database_given: bool) -> Result<(), String> {
    let _cluster = private_database(&mut settings, database_given, demo_mode)?;
    let settings = settings.validated(demo_mode)?;
    if settings.public_url.is_none() && !demo_mode {
        tracing::warn!(
            "MIP_PUBLIC_URL is not set: feeds and embeds build their links from each request's Host; \
             set it to the public address behind a proxy or CDN"
        );
    }
    let mut conn = connect_and_migrate(&settings)?;
    if demo_mode && demo::load(&mut conn)? {
        tracing::info!(
            admin = demo::DEMO_ADMIN_EMAIL,
            organizer = demo::DEMO_ORGANIZER_EMAIL,
            password = demo::DEMO_PASSWORD,
            "demo data loaded; demo accounts created"
        );
    }
    drop(conn);
    let pool = db::pool(&settings.database_url, settings.db_pool_size, settings.db_limits())?;
    let workers = settings.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    // actix counts connections per worker: the total is shared out, rounding up.
    let per_worker = settings.max_connections.div_ceil(workers);
    let state = web::Data::new(AppState::new(pool.clone(), settings)?);
    tracing::info!(%bind, workers, max_connections = per_worker * workers, "listening");
    actix_web::rt::System::new().block_on(async move {
        actix_web::rt::spawn(prune_auth_attempts(pool, state.settings.login_window_secs));
        HttpServer::new(move || build_app(state.clone()))
            .workers(workers)
            .max_connections(per_worker)
            .bind(&bind)
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?
            .shutdown_timeout(20)
            .run()
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}

/// Throttling only looks back one window, expired refresh tokens are refused anyway, and
/// idempotency keys are kept a day: all are dropped every hour, by whichever instance gets
/// there (the deletes are idempotent).
async fn prune_auth_attempts(pool: db::DbPool, window_secs: u64) {
    let mut every_hour = actix_web::rt::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let keep = chrono::Duration::seconds(window_secs.max(3600) as i64);
        let pruned = db::run(&pool, move |conn| {
            Ok(mip::auth::throttle::prune(conn, keep)?
                + mip::auth::sessions::prune_expired(conn)?
                + mip::idempotency::delete_expired(conn)?)
        });
        match pruned.await {
            Ok(pruned) => tracing::debug!(pruned, "pruned old authentication attempts and refresh tokens"),
            Err(error) => tracing::warn!(%error, "could not prune authentication attempts"),
        }
    }
}

fn print_openapi() -> Result<(), String> {
    use std::io::Write;
    let spec = openapi().to_pretty_json().map_err(|e| e.to_string())?;
    // A closed pipe (`mip openapi | head`) is the reader's choice, not an error.
    match writeln!(std::io::stdout().lock(), "{spec}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("cannot write the document: {e}")),
        _ => Ok(()),
    }
}

fn create_admin(settings: &Settings, email: &str) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password).map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']);
    if !email.contains('@') {
        return Err("--email must be an email address".into());
    }
    password::check_strength(password, email).map_err(|e| format!("password {}", e.message))?;
    let mut conn = connect_and_migrate(settings)?;
    let hash = password::hash(password).map_err(|e| format!("{e:?}"))?;
    mip::auth::repo::create(&mut conn, email, &hash, Role::Admin, None).map_err(|e| match e {
        mip::error::ApiError::Conflict { .. } => format!("an account with the email {email} already exists"),
        other => format!("{other}"),
    })?;
    println!("admin account {email} created");
    Ok(())
}
