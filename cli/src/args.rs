//! The command line: nouns and verbs that mirror `/admin/v1`. Every command
//! carries an example in its `--help` (`after_help`), checked by a test.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Manage a flowgate deployment: service accounts, credentials, grants,
/// roles, groups, audit, and declarative apply of an exported document.
#[derive(Debug, Parser)]
#[command(
    name = "flowgate",
    version,
    after_help = "Examples:\n  flowgate login --server https://flowgate.example\n  flowgate accounts create partner-a --type api_key --flows orders\n  flowgate apply -f accounts.json --dry-run\n\nExit codes: 0 success, 1 refused by the server, 2 usage error, 3 cannot reach the server, 4 a dry run found drift."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Base URL of the flowgate app, e.g. https://flowgate.example
    /// (flag, then FLOWGATE_SERVER, then the file `flowgate login` writes).
    #[arg(long, global = true, env = "FLOWGATE_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token: the admin token, or an API key or API token of an
    /// account holding a role (flag, then FLOWGATE_API_TOKEN, then the file).
    /// Prefer the environment or `flowgate login`: a flag is visible to other
    /// users of the machine in the process list.
    #[arg(
        long,
        global = true,
        env = "FLOWGATE_API_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub api_token: Option<String>,
    /// Output: a readable table, or the API's JSON unchanged.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Print only the secret (when the answer carries one) or the id.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Columns for people.
    Table,
    /// The API's JSON, as the server sent it.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Service accounts.
    #[command(subcommand)]
    Accounts(Accounts),
    /// Public keys of `private_key_jwt` accounts (rotation).
    #[command(subcommand)]
    Keys(Keys),
    /// Client certificates of `mtls` accounts (rotation).
    #[command(subcommand)]
    Certificates(Certificates),
    /// Named API tokens of an account.
    #[command(subcommand)]
    Tokens(Tokens),
    /// Who may invoke which flow.
    #[command(subcommand)]
    Grants(Grants),
    /// Roles: named sets of management permissions.
    #[command(subcommand)]
    Roles(Roles),
    /// Groups of accounts that share grants.
    #[command(subcommand)]
    Groups(Groups),
    /// The audit log of every change.
    #[command(subcommand)]
    Audit(Audit),
    /// The flows declared in policies/.
    #[command(subcommand)]
    Flows(Flows),
    /// Write the export document (roles, groups, accounts; digests, never secrets).
    #[command(after_help = "Example:\n  flowgate export -f accounts.json")]
    Export {
        /// Write to this file instead of standard output.
        #[arg(long, short = 'f', value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Apply an export document: show the difference and apply it.
    #[command(
        after_help = "Example:\n  flowgate apply -f accounts.json --dry-run   # exits 4 when the server differs\n  flowgate apply -f accounts.json"
    )]
    Apply {
        /// The document (the format `flowgate export` writes).
        #[arg(long, short = 'f', value_name = "FILE")]
        file: PathBuf,
        /// Only show the difference; exit 4 if there is one, 0 if none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete expired replay, revocation and verified-token records.
    #[command(after_help = "Example:\n  flowgate prune")]
    Prune,
    /// Check a server and token, then store them in your config file (mode 0600).
    #[command(
        after_help = "Example:\n  flowgate login --server https://flowgate.example   # reads the token from standard input\n  echo \"$TOKEN\" | flowgate login --server https://flowgate.example"
    )]
    Login,
    /// Print a new value for the `signing_key` variable (the bound form: seed,
    /// public key and a tag that binds them; docs/decisions.md). Runs locally:
    /// no server, no token.
    #[command(
        after_help = "Examples:\n  flowgate signing-key                 # a new key from the OS's random source\n  printf %s \"$OLD_SEED\" | flowgate signing-key --from-seed   # the same key, bound: no rotation\n\nPrints only the value, so that $(flowgate signing-key) captures it. The value is a secret: keep it where the other Spin secrets are."
    )]
    SigningKey {
        /// Read an existing `signing_key` value (a 32-byte seed, or a bound
        /// value to check) from standard input and print the bound form of
        /// the same key: tokens, JWKS and `kid` stay the same.
        #[arg(long)]
        from_seed: bool,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  flowgate completions bash > ~/.local/share/bash-completion/completions/flowgate\n  flowgate completions zsh > \"${fpath[1]}/_flowgate\"\n  flowgate completions fish > ~/.config/fish/completions/flowgate.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print every management route this command line calls (METHOD /path).
    #[command(hide = true, after_help = "Example:\n  flowgate api-routes")]
    ApiRoutes,
}

/// `--scope-level` and its names.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeLevel {
    Platform,
    Project,
    Environment,
}

/// The credential types of the contract.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum CredentialType {
    ApiKey,
    Basic,
    ClientSecret,
    PrivateKeyJwt,
    Mtls,
    Oidc,
    Poller,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Status {
    Active,
    Disabled,
}

#[derive(Debug, Subcommand)]
pub enum Accounts {
    /// Create an account; the secret (if the type has one) is shown once.
    #[command(
        after_help = "Examples:\n  flowgate accounts create partner-a --type api_key --flows orders\n  flowgate accounts create erp --type mtls --certificate erp.pem --flows orders,reports\n  flowgate accounts create signer --type private_key_jwt --public-key key.pem --key-id k1\n  flowgate accounts create sap-cpi --type mtls --generate --service-key-file sap-cpi.json --flows orders"
    )]
    Create(Box<CreateAccount>),
    /// List accounts (filters, paging).
    #[command(
        after_help = "Examples:\n  flowgate accounts list --type api_key --status active\n  flowgate accounts list --unused-for-days 90 --all"
    )]
    List(ListAccounts),
    /// Show one account.
    #[command(after_help = "Example:\n  flowgate accounts get k7q2mzx3abcd4efg")]
    Get { id: String },
    /// Change an account's description, roles or groups.
    #[command(
        after_help = "Examples:\n  flowgate accounts update k7q2mzx3abcd4efg --description 'ERP, EU'\n  flowgate accounts update k7q2mzx3abcd4efg --groups ''   # leave every group"
    )]
    Update(UpdateAccount),
    /// Kill switch: stop every credential of the account at once.
    #[command(after_help = "Example:\n  flowgate accounts disable k7q2mzx3abcd4efg")]
    Disable { id: String },
    /// Undo `disable`.
    #[command(after_help = "Example:\n  flowgate accounts enable k7q2mzx3abcd4efg")]
    Enable { id: String },
    /// Delete an account; refused while it holds grants to enabled flows.
    #[command(after_help = "Example:\n  flowgate accounts delete k7q2mzx3abcd4efg --force")]
    Delete {
        id: String,
        /// Delete even while the account holds grants.
        #[arg(long)]
        force: bool,
    },
    /// Hourly usage figures: allowed, unauthenticated, forbidden,
    /// rate-limited and quota-exhausted requests (accounts with a limit, a
    /// quota or --record-usage true).
    #[command(
        after_help = "Examples:\n  flowgate accounts usage k7q2mzx3abcd4efg\n  flowgate accounts usage k7q2mzx3abcd4efg --from 1764460800 --to 1764547200"
    )]
    Usage {
        id: String,
        /// Start, Unix seconds (default: 24 hours before --to; at most 31
        /// days ago).
        #[arg(long, value_name = "UNIX_SECONDS")]
        from: Option<u64>,
        /// End, exclusive, Unix seconds (default: now).
        #[arg(long, value_name = "UNIX_SECONDS")]
        to: Option<u64>,
    },
    /// New secret, shown once; the old one may keep working for a grace period.
    #[command(
        after_help = "Example:\n  flowgate accounts reset-credential k7q2mzx3abcd4efg --grace-seconds 3600"
    )]
    ResetCredential {
        id: String,
        /// How long the previous secret keeps working (1 to 2592000).
        #[arg(long, value_name = "SECONDS", conflicts_with = "generate")]
        grace_seconds: Option<u64>,
        /// The new secret expires this many seconds from now.
        #[arg(long, value_name = "SECONDS", conflicts_with = "generate")]
        expires_in: Option<u64>,
        #[command(flatten)]
        generate: Generate,
    },
}

/// `--generate`: flowgate makes the credential (docs/service-keys.md).
#[derive(Debug, Args)]
pub struct Generate {
    /// `mtls`/`private_key_jwt`: let flowgate make the key pair (for mtls
    /// also the certificate, signed by its CA). The service key, holding
    /// the private key, is shown once: written to --service-key-file
    /// (mode 0600) or, without it, printed alone to standard output.
    #[arg(long)]
    pub generate: bool,
    /// With --generate: the key algorithm, ES256 (default) or EdDSA.
    #[arg(long, requires = "generate", value_parser = ["ES256", "EdDSA"])]
    pub algorithm: Option<String>,
    /// With --generate on mtls: the certificate's validity in days.
    #[arg(long, requires = "generate", value_name = "DAYS")]
    pub validity_days: Option<u32>,
    /// With --generate: a new file to write the service key to (refused if
    /// it exists; created with mode 0600).
    #[arg(long, requires = "generate", value_name = "FILE")]
    pub service_key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CreateAccount {
    /// Name (also the Basic username): A-Z, a-z, 0-9, '.', '_', '-'; it
    /// may start with `-`, read as the value.
    #[arg(allow_hyphen_values = true)]
    pub name: String,
    /// Credential type.
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub credential_type: CredentialType,
    #[arg(long)]
    pub description: Option<String>,
    /// Scope level (default: platform).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub scope_level: Option<ScopeLevel>,
    /// Project of a project or environment scope.
    #[arg(long)]
    pub project: Option<String>,
    /// Environment of an environment scope.
    #[arg(long)]
    pub environment: Option<String>,
    /// Roles, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "ROLE,...")]
    pub roles: Option<Vec<String>>,
    /// Groups, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "GROUP,...")]
    pub groups: Option<Vec<String>>,
    /// Flows to grant at once, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "FLOW,...")]
    pub flows: Option<Vec<String>>,
    /// `private_key_jwt`: file with the public key (PEM or JWK).
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// `private_key_jwt`: the key id.
    #[arg(long, value_name = "KID")]
    pub key_id: Option<String>,
    /// `mtls`: file with the client certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// `oidc`: the issuer URL.
    #[arg(long)]
    pub issuer: Option<String>,
    /// `oidc`: the expected audience.
    #[arg(long)]
    pub audience: Option<String>,
    /// `oidc`: the claims-match rule, a JSON object of claim names to a
    /// pattern or a list of patterns, e.g. '{"sub":"svc-*"}'.
    #[arg(long)]
    pub claims_match: Option<String>,
    #[command(flatten)]
    pub usage: UsageFlags,
    #[command(flatten)]
    pub generate: Generate,
}

/// Usage controls of an account (docs/usage.md), on create and update.
#[derive(Debug, Args, Default)]
pub struct UsageFlags {
    /// Named rate limits, comma-separated NAME=COUNT/WINDOW (window second,
    /// minute, hour or day), e.g. burst=20/second,hourly=5000/hour ('' for none).
    #[arg(long, value_name = "NAME=COUNT/WINDOW,...")]
    pub limits: Option<String>,
    /// Quota: COUNT, COUNT/daily or COUNT/monthly ('none' to remove).
    #[arg(long, value_name = "COUNT[/REFILL]")]
    pub quota: Option<String>,
    /// The primary credential expires this many seconds from now.
    #[arg(long, value_name = "SECONDS")]
    pub expires_in: Option<u64>,
    /// IP allow-list, comma-separated addresses or CIDR blocks ('' for none).
    #[arg(long, value_name = "CIDR,...")]
    pub allowed_ips: Option<String>,
    /// Metadata passed to flows: a JSON object ('null' to remove).
    #[arg(long, value_name = "JSON")]
    pub metadata: Option<String>,
    /// Count usage figures although the account has no limit or quota.
    #[arg(long, value_name = "BOOL")]
    pub record_usage: Option<bool>,
}

#[derive(Debug, Args)]
pub struct ListAccounts {
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub credential_type: Option<CredentialType>,
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub scope_level: Option<ScopeLevel>,
    /// Only members of this group.
    #[arg(long)]
    pub group: Option<String>,
    /// Only accounts none of whose credentials was used in this many days.
    #[arg(long, value_name = "DAYS")]
    pub unused_for_days: Option<u32>,
    /// Only accounts whose credential expires within this many days.
    #[arg(long, value_name = "DAYS")]
    pub expires_within_days: Option<u32>,
    #[command(flatten)]
    pub page: Page,
}

/// Paging of a listing.
#[derive(Debug, Args)]
pub struct Page {
    /// Page size (1 to 200; the server's default is 50).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Start after this cursor (the `next` of the previous page).
    #[arg(long, value_name = "CURSOR", conflicts_with = "all")]
    pub after: Option<String>,
    /// Follow every page.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct UpdateAccount {
    pub id: String,
    #[arg(long)]
    pub description: Option<String>,
    /// Replace the roles, comma-separated ('' for none).
    #[arg(long, value_delimiter = ',', value_name = "ROLE,...")]
    pub roles: Option<Vec<String>>,
    /// Replace the groups, comma-separated ('' for none).
    #[arg(long, value_delimiter = ',', value_name = "GROUP,...")]
    pub groups: Option<Vec<String>>,
    #[command(flatten)]
    pub usage: UsageFlags,
}

#[derive(Debug, Subcommand)]
pub enum Keys {
    /// Register another public key (rotation: add the new, move the client, retire the old).
    #[command(
        after_help = "Example:\n  flowgate keys add k7q2mzx3abcd4efg --public-key new.pem --key-id k2"
    )]
    Add {
        /// The account id.
        account: String,
        /// File with the public key (PEM or JWK).
        #[arg(long, value_name = "FILE", required_unless_present = "generate")]
        public_key: Option<PathBuf>,
        #[arg(long, value_name = "KID", required_unless_present = "generate")]
        key_id: Option<String>,
        #[command(flatten)]
        generate: Generate,
    },
    /// Remove a public key by key id.
    #[command(after_help = "Example:\n  flowgate keys retire k7q2mzx3abcd4efg k1")]
    Retire {
        /// The account id.
        account: String,
        /// The key id: any visible ASCII, so it may start with `-` (a
        /// base64url JWK thumbprint does one time in 64), read as the value.
        #[arg(allow_hyphen_values = true)]
        key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Certificates {
    /// Register another client certificate.
    #[command(
        after_help = "Examples:\n  flowgate certificates add k7q2mzx3abcd4efg --certificate new.pem\n  flowgate certificates add k7q2mzx3abcd4efg --generate --validity-days 30 --service-key-file next.json"
    )]
    Add {
        /// The account id.
        account: String,
        /// File with the certificate (PEM).
        #[arg(long, value_name = "FILE", required_unless_present = "generate")]
        certificate: Option<PathBuf>,
        #[command(flatten)]
        generate: Generate,
    },
    /// Remove a certificate by its SHA-256 thumbprint (as `accounts get` shows it).
    #[command(
        after_help = "Example:\n  flowgate certificates retire k7q2mzx3abcd4efg 3q2-7wXcz1o0Yw2b0Ag8hRxhqyS-0sBvRzXVUGZ7H1k"
    )]
    Retire {
        /// The account id.
        account: String,
        /// The thumbprint, unpadded base64url: one in 64 starts with `-`,
        /// which must be read as the value, not as an option.
        #[arg(allow_hyphen_values = true)]
        thumbprint: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Tokens {
    /// Create a named API token, shown once.
    #[command(
        after_help = "Example:\n  flowgate tokens create k7q2mzx3abcd4efg --name ci --expires-in 86400"
    )]
    Create {
        account: String,
        #[arg(long)]
        name: String,
        /// Lifetime in seconds (default: no expiry).
        #[arg(long, value_name = "SECONDS")]
        expires_in: Option<u64>,
    },
    /// List an account's tokens (never their values).
    #[command(after_help = "Example:\n  flowgate tokens list k7q2mzx3abcd4efg")]
    List { account: String },
    /// Revoke a token.
    #[command(after_help = "Example:\n  flowgate tokens revoke k7q2mzx3abcd4efg 5dxkq2n7mb3y4rta")]
    Revoke { account: String, token_id: String },
}

/// An account or a group, the holder of a grant.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Grantee {
    /// The account id.
    #[arg(long)]
    pub account: Option<String>,
    /// The group name.
    #[arg(long)]
    pub group: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Grants {
    /// Let an account or a group invoke a flow.
    #[command(
        after_help = "Examples:\n  flowgate grants add --flow orders --account k7q2mzx3abcd4efg\n  flowgate grants add --flow reports --group partners"
    )]
    Add {
        #[arg(long)]
        flow: String,
        #[command(flatten)]
        to: Grantee,
    },
    /// Take a grant back.
    #[command(
        after_help = "Examples:\n  flowgate grants remove --flow orders --account k7q2mzx3abcd4efg\n  flowgate grants remove --flow reports --group partners"
    )]
    Remove {
        #[arg(long)]
        flow: String,
        #[command(flatten)]
        to: Grantee,
    },
    /// Who may invoke a flow (--flow), or which flows an account may invoke (--account).
    #[command(
        after_help = "Examples:\n  flowgate grants list --flow orders\n  flowgate grants list --account k7q2mzx3abcd4efg"
    )]
    List {
        #[arg(long, required_unless_present = "account", conflicts_with = "account")]
        flow: Option<String>,
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum Roles {
    /// Create a custom role.
    #[command(
        after_help = "Example:\n  flowgate roles create pruner --permissions maintenance:write --description 'cron job'"
    )]
    Create {
        name: String,
        /// Permissions, comma-separated (e.g. accounts:read,audit:read).
        #[arg(long, value_delimiter = ',', value_name = "PERMISSION,...")]
        permissions: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the built-in and custom roles.
    #[command(after_help = "Example:\n  flowgate roles list")]
    List,
    /// Show one role.
    #[command(after_help = "Example:\n  flowgate roles get auditor")]
    Get { name: String },
    /// Delete a custom role (refused while an account holds it).
    #[command(after_help = "Example:\n  flowgate roles delete pruner")]
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
pub enum Groups {
    /// Create a group.
    #[command(
        after_help = "Example:\n  flowgate groups create partners --description 'external partners'"
    )]
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List groups with their grants and members.
    #[command(after_help = "Example:\n  flowgate groups list")]
    List,
    /// Show one group.
    #[command(after_help = "Example:\n  flowgate groups get partners")]
    Get { name: String },
    /// Delete a group (refused while it has members).
    #[command(after_help = "Example:\n  flowgate groups delete partners")]
    Delete { name: String },
    /// Add an account to a group.
    #[command(after_help = "Example:\n  flowgate groups add-member partners k7q2mzx3abcd4efg")]
    AddMember { group: String, account: String },
    /// Remove an account from a group.
    #[command(after_help = "Example:\n  flowgate groups remove-member partners k7q2mzx3abcd4efg")]
    RemoveMember { group: String, account: String },
}

#[derive(Debug, Subcommand)]
pub enum Audit {
    /// List audit entries, newest first.
    #[command(
        after_help = "Examples:\n  flowgate audit list --target account:k7q2mzx3abcd4efg\n  flowgate audit list --limit 200 --all --output json"
    )]
    List {
        /// Only entries on this object (e.g. account:<id>, group:<name>).
        #[arg(long)]
        target: Option<String>,
        /// Start before this cursor (the `next` of the previous page).
        #[arg(long, value_name = "CURSOR", conflicts_with = "all")]
        before: Option<String>,
        /// Page size (1 to 200; the server's default is 50).
        #[arg(long)]
        limit: Option<u32>,
        /// Follow every page.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum Flows {
    /// List the flows.
    #[command(after_help = "Example:\n  flowgate flows list")]
    List,
    /// Show one flow.
    #[command(after_help = "Example:\n  flowgate flows get orders")]
    Get { id: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thumbprint_that_starts_with_a_hyphen_is_a_value() {
        let thumbprint = "-yQ2b0Ag8hRxhqyS-0sBvRzXVUGZ7H1k3q2-7wXcz1o";
        let cli = Cli::try_parse_from(["flowgate", "certificates", "retire", "acc", thumbprint])
            .expect("parses");
        match cli.command {
            Command::Certificates(Certificates::Retire {
                account,
                thumbprint: parsed,
            }) => {
                assert_eq!(account, "acc");
                assert_eq!(parsed, thumbprint);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    fn created(args: &[&str]) -> (String, CredentialType) {
        let cli = Cli::try_parse_from(args).expect("parses");
        match cli.command {
            Command::Accounts(Accounts::Create(c)) => (c.name, c.credential_type),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn an_account_name_that_starts_with_a_hyphen_is_a_value() {
        let (name, kind) = created(&["flowgate", "accounts", "create", "-edge", "--type", "basic"]);
        assert_eq!(name, "-edge");
        assert!(matches!(kind, CredentialType::Basic));
        let (name, _) = created(&["flowgate", "accounts", "create", "--type", "basic", "-edge"]);
        assert_eq!(name, "-edge");
    }

    #[test]
    fn options_before_an_account_name_are_still_options() {
        let (name, kind) = created(&["flowgate", "accounts", "create", "--type", "api_key", "erp"]);
        assert_eq!(name, "erp");
        assert!(matches!(kind, CredentialType::ApiKey));
        let cli = Cli::try_parse_from([
            "flowgate", "accounts", "create", "-o", "json", "erp", "--type", "api_key",
        ])
        .expect("parses");
        assert!(matches!(cli.global.output, Format::Json));
        match cli.command {
            Command::Accounts(Accounts::Create(c)) => assert_eq!(c.name, "erp"),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn a_key_id_that_starts_with_a_hyphen_is_a_value() {
        let cli =
            Cli::try_parse_from(["flowgate", "keys", "retire", "acc", "-k1"]).expect("parses");
        match cli.command {
            Command::Keys(Keys::Retire { account, key_id }) => {
                assert_eq!(account, "acc");
                assert_eq!(key_id, "-k1");
            }
            other => panic!("parsed as {other:?}"),
        }
    }
}
