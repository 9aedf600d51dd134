//! Content negotiation: output format (extension, `?format=`, `Accept`) and language (`?lang=`,
//! `Accept-Language`), and the response headers that say what was chosen.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::AppError;
use crate::models::lang::Lang;

pub use crate::formats::Format;
pub use crate::models::lang::LangContext;

/// Formats of the plan's collections.
pub const TABLE_FORMATS: &[Format] = &[Format::Json, Format::Csv];

/// Picks the format among `offered` (the first is the default): a path extension wins, then
/// `?format=`, then `Accept`. A `?format=` that contradicts the extension is refused rather than
/// guessed.
pub fn format(
    req: &HttpRequest,
    extension: Option<Format>,
    format_param: Option<&str>,
    offered: &[Format],
) -> Result<Format, AppError> {
    let from_param = format_param
        .map(|f| {
            offered
                .iter()
                .copied()
                .find(|o| o.name() == f)
                .ok_or_else(|| {
                    AppError::invalid(
                        "format",
                        format!(
                            "{f:?} is not a format here: use {}",
                            offered
                                .iter()
                                .map(|o| o.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })
        })
        .transpose()?;
    match (extension, from_param) {
        (Some(ext), Some(param)) if ext != param => Err(AppError::invalid(
            "format",
            "contradicts the path's extension; drop one of them",
        )),
        (Some(ext), _) => Ok(ext),
        (None, Some(param)) => Ok(param),
        (None, None) => from_accept(req, offered),
    }
}

/// The best of `offered` for the request's `Accept` header (JSON when there is none).
pub fn from_accept(req: &HttpRequest, offered: &[Format]) -> Result<Format, AppError> {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(offered[0]);
    };
    for range in weighted_ranges(accept) {
        let range = range.to_ascii_lowercase();
        if let Some(format) = offered.iter().copied().find(|f| f.matches(&range)) {
            return Ok(format);
        }
    }
    Err(AppError::NotAcceptable(format!(
        "Accept: {accept:?} matches none of the representations offered here: {}",
        offered
            .iter()
            .map(|f| f.media_type())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// The language asked for: `?lang=`, then the best supported `Accept-Language` range, else English.
pub fn language(req: &HttpRequest, lang_param: Option<&str>) -> Result<Lang, AppError> {
    if let Some(code) = lang_param {
        return code
            .parse()
            .map_err(|e: String| AppError::invalid("lang", e));
    }
    let Some(header) = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(Lang::En);
    };
    Ok(weighted_ranges(header)
        .into_iter()
        .find_map(|tag| tag.split('-').next().unwrap_or("").parse::<Lang>().ok())
        .unwrap_or(Lang::En))
}

/// The ranges of an `Accept`-style header (`a;q=0.5, b`) that the client accepts (quality above
/// 0), highest quality first and, among equals, in the order the client wrote them.
fn weighted_ranges(header: &str) -> Vec<&str> {
    let mut ranges: Vec<(f32, &str)> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let range = pieces.next()?.trim();
            let quality = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            (!range.is_empty() && quality > 0.0).then_some((quality, range))
        })
        .collect();
    // A stable sort keeps the client's order among equal qualities.
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges.into_iter().map(|(_, range)| range).collect()
}
