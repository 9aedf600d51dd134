//! Dates at the precision a source gives them: "2021-09-10" (day), "2025-08" (month), "2021"
//! (year). A month-precision date is a whole month, never its first day.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatePrecision {
    Day,
    Month,
    Year,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialDate {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
}

impl PartialDate {
    pub fn precision(&self) -> DatePrecision {
        match (self.month, self.day) {
            (Some(_), Some(_)) => DatePrecision::Day,
            (Some(_), None) => DatePrecision::Month,
            _ => DatePrecision::Year,
        }
    }

    /// The first day the date can mean.
    pub fn earliest(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
            .expect("validated on parse")
    }

    /// The last day the date can mean.
    pub fn latest(&self) -> NaiveDate {
        match (self.month, self.day) {
            (Some(m), Some(d)) => NaiveDate::from_ymd_opt(self.year, m, d),
            (Some(m), None) => {
                let (y, next) = if m == 12 {
                    (self.year + 1, 1)
                } else {
                    (self.year, m + 1)
                };
                NaiveDate::from_ymd_opt(y, next, 1).and_then(|d| d.pred_opt())
            }
            _ => NaiveDate::from_ymd_opt(self.year, 12, 31),
        }
        .expect("validated on parse")
    }
}

impl FromStr for PartialDate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD");
        let parts: Vec<&str> = s.split('-').collect();
        let digits = |p: &str, len: usize| p.len() == len && p.bytes().all(|b| b.is_ascii_digit());
        match parts.as_slice() {
            [y] if digits(y, 4) => Ok(Self {
                year: y.parse().map_err(|_| bad())?,
                month: None,
                day: None,
            }),
            [y, m] if digits(y, 4) && digits(m, 2) => {
                let year = y.parse().map_err(|_| bad())?;
                let month = m.parse().map_err(|_| bad())?;
                NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
                Ok(Self {
                    year,
                    month: Some(month),
                    day: None,
                })
            }
            [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => {
                let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
                Ok(Self {
                    year: date.year(),
                    month: Some(date.month()),
                    day: Some(date.day()),
                })
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_precision_is_the_whole_month() {
        let d: PartialDate = "2024-02".parse().unwrap();
        assert_eq!(d.precision(), DatePrecision::Month);
        assert_eq!(d.earliest().to_string(), "2024-02-01");
        assert_eq!(d.latest().to_string(), "2024-02-29");
        assert_eq!(d.to_string(), "2024-02");
        let y: PartialDate = "2025".parse().unwrap();
        assert_eq!(y.latest().to_string(), "2025-12-31");
        let dec: PartialDate = "2025-12".parse().unwrap();
        assert_eq!(dec.latest().to_string(), "2025-12-31");
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "2021-13",
            "2021-02-30",
            "21-01-01",
            "2021-1-01",
            "",
            "2021-09-10T00",
        ] {
            assert!(bad.parse::<PartialDate>().is_err(), "{bad}");
        }
    }
}
