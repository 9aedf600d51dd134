//! Request parameters as the models take them: refusals that name the parameter at fault, and the
//! page sizes every listing shares.

/// A parameter refused and why; `parameter` is none when the query string itself is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub parameter: Option<String>,
    pub detail: String,
}

impl ParamError {
    pub fn new(parameter: impl Into<String>, detail: impl Into<String>) -> Self {
        ParamError {
            parameter: Some(parameter.into()),
            detail: detail.into(),
        }
    }
}

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// Parses a `limit` of 1..=`max` (`default` when absent); anything else is refused, never clamped.
pub fn limit_within(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ParamError> {
    match raw {
        None => Ok(default),
        Some(text) => match text.parse::<u64>() {
            Ok(n) if (1..=u64::from(max)).contains(&n) => Ok(n as u32),
            Ok(n) => Err(ParamError::new(
                "limit",
                format!("{n} is outside 1..={max}"),
            )),
            Err(_) => Err(ParamError::new(
                "limit",
                format!("{text:?} is not a whole number between 1 and {max}"),
            )),
        },
    }
}

/// `?release=<n>`: a positive release number.
pub fn release_number(raw: Option<&str>) -> Result<Option<i64>, ParamError> {
    match raw {
        None => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(ParamError::new(
                "release",
                format!("{text:?} is not a release number (1, 2, …)"),
            )),
        },
    }
}
