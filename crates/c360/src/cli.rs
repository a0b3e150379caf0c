//! The command line: every command, flag and its help text. Parsing only; no work here.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Customer 360 analytics for card issuers: a medallion lake of Delta tables, built, modelled
/// and served from one binary.
#[derive(Debug, Parser)]
#[command(name = "c360", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Lake folder [default: `lake` from c360.toml, else ./lake]
    #[arg(long, global = true, env = "C360_LAKE", value_name = "DIR")]
    pub lake: Option<PathBuf>,

    /// Project file to read settings from [default: ./c360.toml, else ./project/c360.toml]
    #[arg(long, global = true, env = "C360_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Worker threads [default: number of cores]
    #[arg(long, global = true, env = "C360_THREADS", value_name = "N")]
    pub threads: Option<usize>,

    /// Memory the query engine may hold before sorts, aggregates and joins spill to disk
    /// (e.g. 4GiB, 512MB, 25%, unlimited) [default: `memory_limit` from c360.toml, else 20% of
    /// the machine's memory]
    #[arg(long, global = true, env = "C360_MEMORY_LIMIT", value_name = "SIZE")]
    pub memory_limit: Option<String>,

    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// How long a command that writes the lake waits for another writer to finish (e.g. 30s,
    /// 10m) before giving up [default: 0s, fail at once naming the other writer]
    #[arg(
        long,
        global = true,
        env = "C360_LOCK_TIMEOUT",
        value_name = "DURATION"
    )]
    pub lock_timeout: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate synthetic customers and transactions into bronze (replaces existing bronze data)
    Generate(GenerateArgs),
    /// Append the next N days of synthetic transactions and customer changes to bronze
    Simulate(SimulateArgs),
    /// Load CSV, Parquet or JSON-lines files into a bronze table
    Load(LoadArgs),
    /// List the lake's tables with row counts, versions and sizes
    Tables(TablesArgs),
    /// Run the project's seeds and models (in DAG order) into the lake
    Run(RunArgs),
    /// Run the project's data tests against the lake
    Test(TestArgs),
    /// Run seeds, models and their tests in DAG order; a failing test skips its descendants
    Build(RunArgs),
    /// Render the project's models and tests to SQL and write target/manifest.json
    Compile(CompileArgs),
    /// Run a read-only SQL query over the lake's tables (`layer.table`)
    Query(QueryArgs),
    /// List the project's models, seeds, sources and tests (after selection)
    Ls(LsArgs),
    /// Serve the dashboard and JSON API over the lake (`[server]` in c360.toml)
    Serve(ServeArgs),
    /// Train, score and report on the churn model (registry in <lake>/_c360/models/churn)
    #[command(subcommand)]
    Ml(MlCommand),
    /// Run pipelines (`[pipeline.<name>]` in c360.toml) and read their history
    Pipeline(PipelineArgs),
    /// Fire scheduled pipelines on their cron schedules, in the foreground, until SIGTERM/Ctrl-C
    Schedule(ScheduleArgs),
    /// Delta Sharing recipients and their profile files (shares: `[server.sharing]`)
    #[command(subcommand)]
    Share(ShareCommand),
}

#[derive(Debug, Subcommand)]
pub enum ShareCommand {
    /// Add, revoke and list recipients
    #[command(subcommand)]
    Recipient(RecipientCommand),
    /// Issue RECIPIENT a new token and write the profile file a Delta Sharing client loads
    /// (the previous token stops working)
    Profile(ShareProfileArgs),
}

#[derive(Debug, Subcommand)]
pub enum RecipientCommand {
    /// Add a recipient and write its profile file
    Add {
        /// Recipient name (letters, digits, `_`, `-`), as listed in shares and row filters
        name: String,
        /// The token stops working after this many days [default: never]
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        profile: ProfileOutput,
    },
    /// Revoke a recipient: its token stops working at once
    Revoke {
        /// Recipient name
        name: String,
    },
    /// List recipients with their state
    List,
}

#[derive(Debug, Args)]
pub struct ShareProfileArgs {
    /// Recipient name
    pub recipient: String,
    #[command(flatten)]
    pub profile: ProfileOutput,
}

#[derive(Debug, Args)]
pub struct ProfileOutput {
    /// Sharing endpoint written in the profile [default: http://<[server] bind>/delta-sharing]
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Profile file to write [default: ./<recipient>.share]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// Which nodes of the project a command acts on, and the variables it renders with.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Nodes to include: `m`, `+m` (with ancestors), `m+` (with descendants), `tag:x`,
    /// `path:models/gold`, `source:bronze.transactions`; repeatable or comma-separated
    #[arg(short, long = "select", value_name = "SELECTOR")]
    pub select: Vec<String>,
    /// Nodes to leave out (same syntax)
    #[arg(long, value_name = "SELECTOR")]
    pub exclude: Vec<String>,
    /// Override a project variable, as KEY=VALUE (e.g. --var as_of=2025-11-14); repeatable
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Rebuild incremental and append models from scratch
    #[arg(long)]
    pub full_refresh: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Print the compiled SQL of the selected models and tests
    #[arg(long)]
    pub show: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LsOutput {
    /// One node id per line
    Name,
    /// Node id and its file
    Path,
    /// The selected manifest nodes as JSON
    Json,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Only nodes of this kind
    #[arg(long, value_name = "KIND", value_parser = ["model", "test", "seed", "source"])]
    pub resource_type: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = LsOutput::Name)]
    pub output: LsOutput,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of customers
    #[arg(long, default_value_t = 50_000)]
    pub customers: u32,
    /// Random seed: the same options always give the same data
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Last day of history (YYYY-MM-DD)
    #[arg(long, default_value = "2025-11-14")]
    pub end_date: NaiveDate,
    /// Months of history ending on --end-date
    #[arg(long, default_value_t = 18)]
    pub months: u32,
    /// Inject no dirt at all (no duplicates, bad rows, messy text or customer changes)
    #[arg(long)]
    pub clean: bool,
    /// Override one dirt rate, as KIND=RATE (e.g. duplicate=0.01); repeatable.
    /// Kinds: duplicate, blank_category, bad_amount, unknown_customer, bad_clock,
    /// messy_customer, messy_transaction, bad_channel, bad_status, customer_change
    #[arg(long = "dirt-rate", value_name = "KIND=RATE")]
    pub dirt_rates: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Days to append after the current end of the generated history
    #[arg(long, default_value_t = 1)]
    pub days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoadTarget {
    Customers,
    Transactions,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Files with the same content (SHA-256 of their bytes) are loaded once: a file loaded by an earlier
command is skipped unless --force is given, and a second copy within one command is always skipped.

Exit codes:
  0  every file was loaded or skipped (rejected rows are in bronze._rejected_<table>)
  1  nothing could be loaded (every file failed, or every row was rejected);
     with --strict, a file failed and nothing was committed
  3  some files failed, the others were loaded")]
pub struct LoadArgs {
    /// Bronze table to load into
    pub table: LoadTarget,
    /// Files to load (.csv/.tsv, .parquet, .jsonl/.ndjson/.json); format from the extension
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Load files again even if the same content was loaded before
    #[arg(long)]
    pub force: bool,
    /// CSV field delimiter (one byte) [default: ',' or tab for .tsv]
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
    /// All or nothing: if any file fails, commit nothing and exit 1 [default: load the files
    /// that can be read, exit 3]
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct TablesArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Also compute an order-independent content hash of every table (reads all data)
    #[arg(long)]
    pub hash: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryOutput {
    /// An aligned text table
    Table,
    /// CSV with a header row
    Csv,
    /// A JSON array of objects
    Json,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The SQL statement, e.g. "SELECT count(*) FROM bronze.transactions"
    pub sql: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = QueryOutput::Table)]
    pub format: QueryOutput,
    /// At most this many rows (0: no limit)
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: `bind` of [server], else 127.0.0.1:8360]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<std::net::SocketAddr>,
    /// Read a password from standard input, print its argon2 hash for `password_hash`, and exit
    #[arg(long, conflicts_with_all = ["new_token", "bind"])]
    pub hash_password: bool,
    /// Print a new random API token and its SHA-256 for `[[server.tokens]]`, and exit
    #[arg(long, conflicts_with = "bind")]
    pub new_token: bool,
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    #[command(subcommand)]
    pub command: PipelineCommand,
}

#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// Run a pipeline now: its tasks in dependency order, then its finalizer
    Run {
        /// The pipeline [default: `default` of [pipeline], else the only one]
        name: Option<String>,
        /// Run even if `when_new_data` finds no new bronze data
        #[arg(long)]
        force: bool,
    },
    /// Re-run the tasks of the last run that did not succeed (Snowflake's RETRY LAST)
    Retry {
        /// The pipeline [default: `default` of [pipeline], else the only one]
        name: Option<String>,
    },
    /// Every pipeline: schedule, next run, last run, suspension
    Status,
    /// Recent runs with their tasks: status, start, duration, rows, error
    History {
        /// Only this pipeline
        name: Option<String>,
        /// At most this many runs (the latest)
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Output format
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Schedule a pipeline again after `c360 schedule` suspended it
    Resume {
        /// The pipeline
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Only these pipelines [default: every pipeline with a schedule]
    pub names: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum MlCommand {
    /// Build churn_training_data at the lake's as_of and train a model; it is registered, and
    /// promoted only if its holdout AUC-ROC passes the gate (an identical run is reused)
    Train(MlTrainArgs),
    /// Score customers with the latest promoted model into churn_predictions and refresh
    /// customer_360_profile
    Score,
    /// Print a registered model's card (metrics, importance, calibration, scores) as markdown
    Report(MlReportArgs),
}

#[derive(Debug, Args)]
pub struct MlTrainArgs {
    /// Train on these features only, comma-separated [default: `churn_features` of [vars],
    /// else every feature of docs/ml.md]
    #[arg(long, value_name = "NAMES")]
    pub features: Option<String>,
}

#[derive(Debug, Args)]
pub struct MlReportArgs {
    /// The model version N (file vN.json) [default: the latest promoted, else the latest]
    #[arg(long, value_name = "N")]
    pub model: Option<u32>,
    /// Also write the card to this file
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
