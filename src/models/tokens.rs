//! API tokens of the city's staff: what each may write. A token is shown once when created; only
//! its SHA-256 is stored (256 random bits need no slow hash: there is nothing to brute-force).

use std::fmt;

use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::db::schema::api_tokens;
use crate::models::registries::hex;
use crate::models::releases::now;

/// Prefix of every token, so a leaked one is recognisable (secret scanners, log reviews).
pub const TOKEN_PREFIX: &str = "ogt_";

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Everything, including reading the audit log.
    Admin,
    /// Milestone status, completion and progress updates.
    PlanWrite,
    /// Publish releases of every registry.
    PublishAnyRegistry,
    /// Publish releases of one registry.
    PublishRegistry(String),
}

impl Scope {
    pub fn parse(text: &str) -> Result<Scope, String> {
        match text {
            "admin" => Ok(Scope::Admin),
            "plan:write" => Ok(Scope::PlanWrite),
            "registries:publish" => Ok(Scope::PublishAnyRegistry),
            other => match other
                .strip_prefix("registry:")
                .and_then(|s| s.strip_suffix(":publish"))
            {
                Some(slug)
                    if !slug.is_empty()
                        && slug
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
                {
                    Ok(Scope::PublishRegistry(slug.to_owned()))
                }
                _ => Err(format!(
                    "unknown scope {other:?}; use admin, plan:write, registries:publish or \
                     registry:<slug>:publish"
                )),
            },
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Admin => f.write_str("admin"),
            Scope::PlanWrite => f.write_str("plan:write"),
            Scope::PublishAnyRegistry => f.write_str("registries:publish"),
            Scope::PublishRegistry(slug) => write!(f, "registry:{slug}:publish"),
        }
    }
}

/// Parses a list of scopes separated by commas or spaces; at least one.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    let mut scopes = text
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(Scope::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if scopes.is_empty() {
        return Err("give at least one scope".into());
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// Who is writing: a token that authenticated.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    /// The token's public id (`tok_…`), as recorded in the audit log.
    pub token_id: String,
    pub name: String,
    #[serde(serialize_with = "scopes_as_strings")]
    pub scopes: Vec<Scope>,
}

fn scopes_as_strings<S: serde::Serializer>(scopes: &[Scope], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(scopes.iter().map(ToString::to_string))
}

impl Actor {
    pub fn may(&self, wanted: &Scope) -> bool {
        self.scopes.iter().any(|held| {
            held == wanted
                || *held == Scope::Admin
                || (*held == Scope::PublishAnyRegistry
                    && matches!(wanted, Scope::PublishRegistry(_)))
        })
    }

    /// How the audit log and release origins name this actor: `tok_ab12… (name)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.token_id, self.name)
    }
}

/// A token as listed (never the secret).
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = api_tokens)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub scopes: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Creates a token; returns its info and the secret, which is not stored and cannot be shown
/// again.
pub fn create(
    conn: &mut DbConn,
    name: &str,
    scopes: &[Scope],
) -> Result<(TokenInfo, String), String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err("the name must be 1 to 200 printable characters (who holds the token)".into());
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no randomness from the OS: {e}"))?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, secret)
    );
    let hash = digest(&token);
    let info = TokenInfo {
        // Derived from the hash: public, stable, and tells nothing about the secret.
        id: format!("tok_{}", &hash[..12]),
        name: name.to_owned(),
        scopes: scopes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        created_at: now(),
        revoked_at: None,
    };
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::id.eq(&info.id),
            api_tokens::name.eq(&info.name),
            api_tokens::scopes.eq(&info.scopes),
            api_tokens::token_sha256.eq(&hash),
            api_tokens::created_at.eq(&info.created_at),
        ))
        .execute(conn)
        .map_err(|e| format!("cannot store the token: {e}"))?;
    Ok((info, token))
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<TokenInfo>> {
    api_tokens::table
        .order(api_tokens::created_at.asc())
        .then_order_by(api_tokens::id.asc())
        .select(TokenInfo::as_select())
        .load(conn)
}

/// Revokes a token by id; false when no active token has that id.
pub fn revoke(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now())))
    .execute(conn)?;
    Ok(n == 1)
}

/// The actor a presented token belongs to; `None` for an unknown or revoked token.
pub fn authenticate(conn: &mut DbConn, token: &str) -> QueryResult<Option<Actor>> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let found: Option<TokenInfo> = api_tokens::table
        .filter(api_tokens::token_sha256.eq(digest(token)))
        .filter(api_tokens::revoked_at.is_null())
        .select(TokenInfo::as_select())
        .first(conn)
        .optional()?;
    Ok(found.map(|t| Actor {
        token_id: t.id,
        name: t.name,
        // Stored scopes were validated on creation; one that no longer parses grants nothing.
        scopes: t
            .scopes
            .split(' ')
            .filter_map(|s| Scope::parse(s).ok())
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_unknown_ones_are_refused() {
        let scopes = parse_scopes("plan:write, registry:housing-stock:publish admin").unwrap();
        let text: Vec<String> = scopes.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["admin", "plan:write", "registry:housing-stock:publish"]
        );
        assert!(parse_scopes("write").unwrap_err().contains("\"write\""));
        assert!(parse_scopes("registry:../x:publish").is_err());
        assert!(parse_scopes(" ").is_err());
    }

    #[test]
    fn publishing_any_registry_covers_each_registry_but_not_the_plan() {
        let actor = Actor {
            token_id: "tok_x".into(),
            name: "n".into(),
            scopes: vec![Scope::PublishAnyRegistry],
        };
        assert!(actor.may(&Scope::PublishRegistry("a".into())));
        assert!(!actor.may(&Scope::PlanWrite));
        assert!(!actor.may(&Scope::Admin));
    }
}
