use clap::Parser;
use opengov_api::cli::{self, Cli, Command};
use opengov_api::logging;

fn main() {
    // The file only fills environment variables, so it must be read before clap parses.
    let config = opengov_api::config::apply_from_command_line().unwrap_or_else(|e| {
        eprintln!("opengov-api: {e}");
        std::process::exit(2);
    });
    let cli = Cli::parse();
    logging::init(cli.log_format);
    if let Some((path, applied)) = config {
        log::info!("config file {}: {applied}", path.display());
    }
    let result = match cli.command {
        Some(Command::Migrate(args)) => cli::migrate(&args),
        Some(Command::LoadFixtures(args)) => cli::load(&args),
        Some(Command::Openapi) => cli::print_openapi(),
        Some(Command::Token(command)) => cli::token(&command),
        Some(Command::Probe(args)) => cli::probe(&args),
        Some(Command::Import(args)) => cli::import_items(&args),
        Some(Command::PruneChanges(args)) => cli::prune_changes(&args),
        Some(Command::DefineRegistry(args)) => cli::define_registry(&args),
        Some(Command::Serve(args)) => run_server(*args),
        None => run_server(cli.serve),
    };
    if let Err(e) = result {
        eprintln!("opengov-api: {e}");
        std::process::exit(1);
    }
}

fn run_server(args: cli::ServeArgs) -> Result<(), cli::CliError> {
    actix_web::rt::System::new().block_on(cli::serve(args))
}
