use clap::Parser;
use opengov_api::cli::{self, Cli, Command};

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Migrate(args)) => cli::migrate(&args),
        Some(Command::LoadFixtures(args)) => cli::load(&args),
        Some(Command::Openapi) => cli::print_openapi(),
        Some(Command::Token(command)) => cli::token(&command),
        Some(Command::Probe(args)) => cli::probe(&args),
        Some(Command::Import(args)) => cli::import_items(&args),
        Some(Command::PruneChanges(args)) => cli::prune_changes(&args),
        Some(Command::DefineRegistry(args)) => cli::define_registry(&args),
        Some(Command::Serve(args)) => run_server(args),
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
