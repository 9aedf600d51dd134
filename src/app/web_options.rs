//! Settings of the web pages: the map's tile server, and the pages' Content-Security-Policy that
//! names it.

/// Settings of the web pages.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// The map's background tiles; `None`: items are drawn on a blank map.
    pub map_tiles: Option<MapTiles>,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions {
            map_tiles: MapTiles::parse(DEFAULT_TILES_URL, DEFAULT_TILES_ATTRIBUTION).ok(),
        }
    }
}

pub const DEFAULT_TILES_URL: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
pub const DEFAULT_TILES_ATTRIBUTION: &str = "© OpenStreetMap contributors";

/// An XYZ tile server: a URL template with `{z}`, `{x}`, `{y}` and the attribution it requires.
#[derive(Debug, Clone)]
pub struct MapTiles {
    pub url: String,
    pub attribution: String,
    /// `scheme://host[:port]` of the tiles, allowed as an image source by the pages' CSP.
    origin: String,
}

impl MapTiles {
    /// Checks the template (an http(s) URL with `{z}`, `{x}` and `{y}`).
    pub fn parse(url: &str, attribution: &str) -> Result<MapTiles, String> {
        for part in ["{z}", "{x}", "{y}"] {
            if !url.contains(part) {
                return Err(format!("map tiles URL {url:?} lacks {part}"));
            }
        }
        // `{s}` subdomains and the placeholders are not valid in a host; parse a stand-in.
        let probe = url
            .replace("{s}", "a")
            .replace("{z}", "0")
            .replace("{x}", "0")
            .replace("{y}", "0")
            .replace("{r}", "");
        let parsed = url::Url::parse(&probe).map_err(|e| format!("map tiles URL {url:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("map tiles URL {url:?} is not http(s)"));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| format!("map tiles URL {url:?} has no host"))?;
        // A `{s}` subdomain template allows every subdomain of the rest.
        let host = if url.contains("{s}.") {
            match host.split_once('.') {
                Some((_, rest)) => format!("*.{rest}"),
                None => host.to_owned(),
            }
        } else {
            host.to_owned()
        };
        let origin = match parsed.port() {
            Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
            None => format!("{}://{host}", parsed.scheme()),
        };
        Ok(MapTiles {
            url: url.to_owned(),
            attribution: attribution.to_owned(),
            origin,
        })
    }
}

impl WebOptions {
    /// Only this origin's own files, plus the tile server's images.
    pub fn content_security_policy(&self) -> String {
        let tiles = self
            .map_tiles
            .as_ref()
            .map(|t| format!(" {}", t.origin))
            .unwrap_or_default();
        format!(
            "default-src 'self'; img-src 'self' data:{tiles}; style-src 'self'; \
             script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        )
    }
}
