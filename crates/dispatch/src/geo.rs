//! Coordinates and straight-line distance.

use serde::{Deserialize, Serialize};

/// A WGS84 position, checked on construction.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "(f64, f64)", into = "(f64, f64)")]
pub struct LatLon {
    lat: f64,
    lon: f64,
}

impl Eq for LatLon {}

/// A latitude or longitude out of range (or not a number).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BadCoordinate(pub String);

impl LatLon {
    /// A position: latitude −90…90, longitude −180…180, both finite.
    pub fn new(lat: f64, lon: f64) -> Result<Self, BadCoordinate> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(BadCoordinate("latitude must be between -90 and 90".into()));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(BadCoordinate(
                "longitude must be between -180 and 180".into(),
            ));
        }
        Ok(Self { lat, lon })
    }

    /// Latitude in degrees.
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Great-circle distance in kilometres (haversine, mean Earth radius).
    pub fn km_to(self, other: LatLon) -> f64 {
        const R: f64 = 6371.0088;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().min(1.0).asin()
    }
}

impl TryFrom<(f64, f64)> for LatLon {
    type Error = BadCoordinate;

    fn try_from((lat, lon): (f64, f64)) -> Result<Self, Self::Error> {
        LatLon::new(lat, lon)
    }
}

impl From<LatLon> for (f64, f64) {
    fn from(p: LatLon) -> Self {
        (p.lat, p.lon)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn distances_are_right() {
        let manchester = LatLon::new(53.4808, -2.2426).unwrap();
        let liverpool = LatLon::new(53.4084, -2.9916).unwrap();
        let d = manchester.km_to(liverpool);
        assert!((49.0..51.0).contains(&d), "{d}");
        assert_eq!(manchester.km_to(manchester), 0.0);
        let antipode = LatLon::new(-53.4808, 177.7574).unwrap();
        assert!((manchester.km_to(antipode) - 20015.1).abs() < 1.0);
    }

    #[test]
    fn out_of_range_is_refused() {
        for (a, b) in [
            (91.0, 0.0),
            (0.0, 180.5),
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
        ] {
            assert!(LatLon::new(a, b).is_err());
        }
        assert!(serde_json::from_str::<LatLon>("[100.0, 0.0]").is_err());
        assert_eq!(
            serde_json::from_str::<LatLon>("[53.5, -2.2]").unwrap(),
            LatLon::new(53.5, -2.2).unwrap()
        );
    }
}
