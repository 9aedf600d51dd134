//! Item geometry: read from lon/lat, WKT or GeoJSON; validated as WGS84; stored as a GeoJSON
//! geometry with a representative point (the point itself or the centroid) and a bounding box.

use std::str::FromStr;

use geo::{BoundingRect, Centroid, CoordsIter};
use geo_types::Geometry as GeoGeometry;
use serde::{Deserialize, Serialize};

use crate::models::lang::Lang;

/// The kind of geometry a registry's items have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GeometryKind {
    None,
    Point,
    Line,
    Polygon,
}

impl GeometryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GeometryKind::None => "none",
            GeometryKind::Point => "point",
            GeometryKind::Line => "line",
            GeometryKind::Polygon => "polygon",
        }
    }

    /// The GeoJSON (and WKT) geometry types of this kind.
    fn geojson_types(self) -> &'static str {
        match self {
            GeometryKind::None => "none",
            GeometryKind::Point => "Point or MultiPoint",
            GeometryKind::Line => "LineString or MultiLineString",
            GeometryKind::Polygon => "Polygon or MultiPolygon",
        }
    }

    fn accepts(self, geometry: &GeoGeometry<f64>) -> bool {
        matches!(
            (self, geometry),
            (
                GeometryKind::Point,
                GeoGeometry::Point(_) | GeoGeometry::MultiPoint(_)
            ) | (
                GeometryKind::Line,
                GeoGeometry::LineString(_) | GeoGeometry::MultiLineString(_)
            ) | (
                GeometryKind::Polygon,
                GeoGeometry::Polygon(_) | GeoGeometry::MultiPolygon(_)
            )
        )
    }
}

/// The GeoJSON name of a geometry's type.
fn type_name(geometry: &GeoGeometry<f64>) -> &'static str {
    match geometry {
        GeoGeometry::Point(_) => "Point",
        GeoGeometry::Line(_) | GeoGeometry::LineString(_) => "LineString",
        GeoGeometry::Polygon(_) | GeoGeometry::Rect(_) | GeoGeometry::Triangle(_) => "Polygon",
        GeoGeometry::MultiPoint(_) => "MultiPoint",
        GeoGeometry::MultiLineString(_) => "MultiLineString",
        GeoGeometry::MultiPolygon(_) => "MultiPolygon",
        GeoGeometry::GeometryCollection(_) => "GeometryCollection",
    }
}

/// A cell quoted for a message, cut after 60 characters.
fn quoted(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() > MAX {
        format!(
            "{:?}",
            format!("{}…", text.chars().take(MAX).collect::<String>())
        )
    } else {
        format!("{text:?}")
    }
}

/// The columns a CSV export adds after the fields for a registry with geometry, in order.
pub const CSV_COLUMNS: [&str; 3] = ["lon", "lat", "wkt"];

/// The label of a geometry column of the CSV export (`header=labels`, CSVW `titles`): our
/// interface words, like the fields' labels.
pub fn column_label(column: &str, lang: Lang) -> Option<&'static str> {
    let [uk, en, es] = match column {
        "lon" => ["Довгота (WGS84)", "Longitude (WGS84)", "Longitud (WGS84)"],
        "lat" => ["Широта (WGS84)", "Latitude (WGS84)", "Latitud (WGS84)"],
        "wkt" => ["Геометрія (WKT)", "Geometry (WKT)", "Geometría (WKT)"],
        _ => return None,
    };
    Some(match lang {
        Lang::Uk => uk,
        Lang::En => en,
        Lang::Es => es,
    })
}

impl FromStr for GeometryKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(GeometryKind::None),
            "point" => Ok(GeometryKind::Point),
            "line" => Ok(GeometryKind::Line),
            "polygon" => Ok(GeometryKind::Polygon),
            other => Err(format!(
                "{other:?} is not a geometry kind: use none, point, line or polygon"
            )),
        }
    }
}

/// A validated geometry ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGeometry {
    /// RFC 7946 geometry object as JSON text.
    pub geojson: String,
    /// Representative point: the point itself, or the centroid.
    pub lon: f64,
    pub lat: f64,
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

fn check_wgs84(geometry: &GeoGeometry<f64>) -> Result<(), String> {
    if geometry.coords_count() == 0 {
        return Err("geometry has no coordinates".into());
    }
    for c in geometry.coords_iter() {
        if !c.x.is_finite()
            || !c.y.is_finite()
            || !(-180.0..=180.0).contains(&c.x)
            || !(-90.0..=90.0).contains(&c.y)
        {
            return Err(format!(
                "coordinate ({}, {}) is outside WGS84 (longitude -180..180, latitude -90..90)",
                c.x, c.y
            ));
        }
    }
    Ok(())
}

fn store(kind: GeometryKind, geometry: GeoGeometry<f64>) -> Result<StoredGeometry, String> {
    if kind == GeometryKind::None {
        return Err("this registry has no geometry".into());
    }
    if !kind.accepts(&geometry) {
        return Err(format!(
            "expected a {} geometry ({}), found a {}",
            kind.as_str(),
            kind.geojson_types(),
            type_name(&geometry)
        ));
    }
    check_wgs84(&geometry)?;
    let centre = geometry
        .centroid()
        .ok_or_else(|| "geometry has no centroid (empty)".to_owned())?;
    let bounds = geometry
        .bounding_rect()
        .ok_or_else(|| "geometry has no extent (empty)".to_owned())?;
    let geojson = geojson::Geometry::from(&geometry);
    Ok(StoredGeometry {
        geojson: serde_json::to_string(&geojson).map_err(|e| e.to_string())?,
        lon: centre.x(),
        lat: centre.y(),
        min_lon: bounds.min().x,
        min_lat: bounds.min().y,
        max_lon: bounds.max().x,
        max_lat: bounds.max().y,
    })
}

/// A point from longitude and latitude cells; both empty means no geometry.
pub fn from_lon_lat(
    kind: GeometryKind,
    lon: &str,
    lat: &str,
) -> Result<Option<StoredGeometry>, String> {
    let (lon, lat) = (lon.trim(), lat.trim());
    if lon.is_empty() && lat.is_empty() {
        return Ok(None);
    }
    let number = |name: &str, text: &str| {
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("{name} {text:?} is not a number"))
    };
    let point = geo_types::Point::new(number("longitude", lon)?, number("latitude", lat)?);
    store(kind, GeoGeometry::Point(point)).map(Some)
}

/// Deepest parenthesis nesting a WKT cell may have.
const MAX_WKT_DEPTH: usize = 16;

/// A geometry from WKT; empty means no geometry.
pub fn from_wkt(kind: GeometryKind, text: &str) -> Result<Option<StoredGeometry>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    // The WKT parser recurses once per nesting level: bound it before parsing, so a hostile cell
    // cannot exhaust the stack. Real geometries nest at most 3 levels (+1 per collection).
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_WKT_DEPTH {
            return Err(format!(
                "invalid WKT: nests deeper than {MAX_WKT_DEPTH} levels"
            ));
        }
    }
    // The WKT crate's own messages are about its parser; the caller needs to know what to write.
    let parsed = wkt::Wkt::<f64>::from_str(text).map_err(|_| {
        format!(
            "{} is not WKT: write e.g. POINT(26.95 49.42) or LINESTRING(26.95 49.42, 26.96 \
             49.43), longitude before latitude",
            quoted(text)
        )
    })?;
    let geometry = GeoGeometry::<f64>::try_from(parsed)
        .map_err(|_| format!("{} has no coordinates (an EMPTY geometry)", quoted(text)))?;
    store(kind, geometry).map(Some)
}

/// A geometry from a GeoJSON geometry object.
pub fn from_geojson(
    kind: GeometryKind,
    geometry: geojson::Geometry,
) -> Result<StoredGeometry, String> {
    if !positions_complete(&geometry.value) {
        return Err("a position has fewer than two numbers (longitude, latitude)".into());
    }
    let converted = GeoGeometry::<f64>::try_from(geometry)
        .map_err(|_| "the geometry cannot be read as coordinates".to_owned())?;
    store(kind, converted)
}

/// Whether every position has a longitude and a latitude: the GeoJSON to geo-types conversion
/// indexes them unchecked (it panics on `[27]`).
fn positions_complete(value: &geojson::GeometryValue) -> bool {
    use geojson::GeometryValue as G;
    let ok = |p: &geojson::Position| p.as_slice().len() >= 2;
    match value {
        G::Point { coordinates } => ok(coordinates),
        G::MultiPoint { coordinates } | G::LineString { coordinates } => coordinates.iter().all(ok),
        G::MultiLineString { coordinates } | G::Polygon { coordinates } => {
            coordinates.iter().flatten().all(ok)
        }
        G::MultiPolygon { coordinates } => coordinates.iter().flatten().flatten().all(ok),
        G::GeometryCollection { geometries } => {
            geometries.iter().all(|g| positions_complete(&g.value))
        }
    }
}

/// WKT of a stored GeoJSON geometry (for CSV), or `None` if it cannot be read back.
pub fn geojson_to_wkt(geojson_text: &str) -> Option<String> {
    use wkt::ToWkt;
    let geometry: geojson::Geometry = serde_json::from_str(geojson_text).ok()?;
    let converted = GeoGeometry::<f64>::try_from(geometry).ok()?;
    Some(converted.wkt_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_lines_and_polygons() {
        let p = from_lon_lat(GeometryKind::Point, "26.98", "49.42")
            .unwrap()
            .unwrap();
        assert_eq!((p.lon, p.lat), (26.98, 49.42));
        assert_eq!(p.geojson, r#"{"type":"Point","coordinates":[26.98,49.42]}"#);
        assert!(from_lon_lat(GeometryKind::Point, "", "").unwrap().is_none());
        assert!(from_lon_lat(GeometryKind::Point, "190", "49").is_err());
        assert!(from_lon_lat(GeometryKind::Point, "27", "NaN").is_err());
        let line = from_wkt(GeometryKind::Line, "LINESTRING (27 49.4, 27.02 49.42)")
            .unwrap()
            .unwrap();
        assert_eq!((line.min_lon, line.max_lat), (27.0, 49.42));
        assert!((line.lon - 27.01).abs() < 1e-9);
        assert!(from_wkt(GeometryKind::Point, "LINESTRING (27 49.4, 27.02 49.42)").is_err());
        assert!(from_wkt(GeometryKind::Polygon, "POLYGON ((").is_err());
        let deep = format!(
            "{}POINT(27 49){}",
            "GEOMETRYCOLLECTION(".repeat(100_000),
            ")".repeat(100_000)
        );
        assert!(
            from_wkt(GeometryKind::Point, &deep)
                .unwrap_err()
                .contains("nests deeper")
        );
        let short: geojson::Geometry =
            serde_json::from_str(r#"{"type":"LineString","coordinates":[[27,49.4],[27]]}"#)
                .unwrap();
        assert!(from_geojson(GeometryKind::Line, short).is_err());
        let wkt = geojson_to_wkt(&line.geojson).unwrap();
        assert!(wkt.starts_with("LINESTRING"), "{wkt}");
    }
}
