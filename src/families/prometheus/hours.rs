//! Business hours for alert routing: warnings reach Slack Monday to Friday, 09:00–17:00 in
//! the environment's location, and nowhere else (critical alerts page at any hour).
//!
//! The location is derived from the region (the time zone of the city the region's data
//! centres are in: `us-east-1` → America/New_York, `europe-west1` → Europe/Brussels,
//! `westus2` → America/Los_Angeles); a region the table does not know gets UTC.
//!
//! The AlertmanagerConfig CRD (prometheus-operator 0.93, `v1alpha1` and `v1beta1`) has no
//! `location` for a time interval: the operator writes the intervals without one, and the
//! Alertmanager reads them in UTC. So the interval is written in UTC, and it covers the
//! local hours in both standard and summer time: where the location observes daylight
//! saving time, the window opens an hour earlier (09:00 local in summer) than 09:00 local
//! in winter, so it is 9 hours long, never missing a local business hour of the year
//! (New York: 13:00–22:00 UTC). A window that crosses midnight UTC is split into the
//! two days' parts (Sydney: Sunday–Thursday 22:00–24:00 and Monday–Friday 00:00–07:00).

use serde::Serialize;

/// A time zone: its IANA name, its standard offset from UTC in minutes, and whether it
/// observes daylight saving time (one hour more in summer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    pub name: &'static str,
    pub offset_minutes: i32,
    pub summer_time: bool,
}

const fn zone(name: &'static str, offset_minutes: i32, summer_time: bool) -> Zone {
    Zone {
        name,
        offset_minutes,
        summer_time,
    }
}

pub const UTC: Zone = zone("UTC", 0, false);
const NEW_YORK: Zone = zone("America/New_York", -300, true);
const CHICAGO: Zone = zone("America/Chicago", -360, true);
const DENVER: Zone = zone("America/Denver", -420, true);
const PHOENIX: Zone = zone("America/Phoenix", -420, false);
const LOS_ANGELES: Zone = zone("America/Los_Angeles", -480, true);
const TORONTO: Zone = zone("America/Toronto", -300, true);
const EDMONTON: Zone = zone("America/Edmonton", -420, true);
const MEXICO_CITY: Zone = zone("America/Mexico_City", -360, false);
const SAO_PAULO: Zone = zone("America/Sao_Paulo", -180, false);
const SANTIAGO: Zone = zone("America/Santiago", -240, true);
const DUBLIN: Zone = zone("Europe/Dublin", 0, true);
const LONDON: Zone = zone("Europe/London", 0, true);
const PARIS: Zone = zone("Europe/Paris", 60, true);
const BERLIN: Zone = zone("Europe/Berlin", 60, true);
const BRUSSELS: Zone = zone("Europe/Brussels", 60, true);
const AMSTERDAM: Zone = zone("Europe/Amsterdam", 60, true);
const ZURICH: Zone = zone("Europe/Zurich", 60, true);
const STOCKHOLM: Zone = zone("Europe/Stockholm", 60, true);
const OSLO: Zone = zone("Europe/Oslo", 60, true);
const ROME: Zone = zone("Europe/Rome", 60, true);
const MADRID: Zone = zone("Europe/Madrid", 60, true);
const WARSAW: Zone = zone("Europe/Warsaw", 60, true);
const HELSINKI: Zone = zone("Europe/Helsinki", 120, true);
const JERUSALEM: Zone = zone("Asia/Jerusalem", 120, true);
const JOHANNESBURG: Zone = zone("Africa/Johannesburg", 120, false);
const BAHRAIN: Zone = zone("Asia/Bahrain", 180, false);
const QATAR: Zone = zone("Asia/Qatar", 180, false);
const RIYADH: Zone = zone("Asia/Riyadh", 180, false);
const DUBAI: Zone = zone("Asia/Dubai", 240, false);
const KOLKATA: Zone = zone("Asia/Kolkata", 330, false);
const BANGKOK: Zone = zone("Asia/Bangkok", 420, false);
const JAKARTA: Zone = zone("Asia/Jakarta", 420, false);
const SINGAPORE: Zone = zone("Asia/Singapore", 480, false);
const KUALA_LUMPUR: Zone = zone("Asia/Kuala_Lumpur", 480, false);
const HONG_KONG: Zone = zone("Asia/Hong_Kong", 480, false);
const TAIPEI: Zone = zone("Asia/Taipei", 480, false);
const SEOUL: Zone = zone("Asia/Seoul", 540, false);
const TOKYO: Zone = zone("Asia/Tokyo", 540, false);
const SYDNEY: Zone = zone("Australia/Sydney", 600, true);
const MELBOURNE: Zone = zone("Australia/Melbourne", 600, true);
const AUCKLAND: Zone = zone("Pacific/Auckland", 720, true);

/// Every time zone `spec.alerting.timeZone` may name (the schema's enumeration is this
/// list, a test keeps them equal): the zones of the regions, and UTC.
pub const ZONES: &[Zone] = &[
    UTC,
    NEW_YORK,
    CHICAGO,
    DENVER,
    PHOENIX,
    LOS_ANGELES,
    TORONTO,
    EDMONTON,
    MEXICO_CITY,
    SAO_PAULO,
    SANTIAGO,
    DUBLIN,
    LONDON,
    PARIS,
    BERLIN,
    BRUSSELS,
    AMSTERDAM,
    ZURICH,
    STOCKHOLM,
    OSLO,
    ROME,
    MADRID,
    WARSAW,
    HELSINKI,
    JERUSALEM,
    JOHANNESBURG,
    BAHRAIN,
    QATAR,
    RIYADH,
    DUBAI,
    KOLKATA,
    BANGKOK,
    JAKARTA,
    SINGAPORE,
    KUALA_LUMPUR,
    HONG_KONG,
    TAIPEI,
    SEOUL,
    TOKYO,
    SYDNEY,
    MELBOURNE,
    AUCKLAND,
];

/// The location of each region id of AWS, GCP and Azure (the ids do not collide between
/// the clouds): the time zone of the city its data centres are in.
const REGIONS: &[(&str, Zone)] = &[
    // AWS
    ("us-east-1", NEW_YORK),
    ("us-east-2", NEW_YORK),
    ("us-west-1", LOS_ANGELES),
    ("us-west-2", LOS_ANGELES),
    ("us-gov-east-1", NEW_YORK),
    ("us-gov-west-1", LOS_ANGELES),
    ("ca-central-1", TORONTO),
    ("ca-west-1", EDMONTON),
    ("mx-central-1", MEXICO_CITY),
    ("sa-east-1", SAO_PAULO),
    ("eu-west-1", DUBLIN),
    ("eu-west-2", LONDON),
    ("eu-west-3", PARIS),
    ("eu-central-1", BERLIN),
    ("eu-central-2", ZURICH),
    ("eu-north-1", STOCKHOLM),
    ("eu-south-1", ROME),
    ("eu-south-2", MADRID),
    ("il-central-1", JERUSALEM),
    ("me-south-1", BAHRAIN),
    ("me-central-1", DUBAI),
    ("af-south-1", JOHANNESBURG),
    ("ap-east-1", HONG_KONG),
    ("ap-east-2", TAIPEI),
    ("ap-south-1", KOLKATA),
    ("ap-south-2", KOLKATA),
    ("ap-southeast-1", SINGAPORE),
    ("ap-southeast-2", SYDNEY),
    ("ap-southeast-3", JAKARTA),
    ("ap-southeast-4", MELBOURNE),
    ("ap-southeast-5", KUALA_LUMPUR),
    ("ap-southeast-6", AUCKLAND),
    ("ap-southeast-7", BANGKOK),
    ("ap-northeast-1", TOKYO),
    ("ap-northeast-2", SEOUL),
    ("ap-northeast-3", TOKYO),
    // GCP
    ("us-east1", NEW_YORK),
    ("us-east4", NEW_YORK),
    ("us-east5", NEW_YORK),
    ("us-central1", CHICAGO),
    ("us-south1", CHICAGO),
    ("us-west1", LOS_ANGELES),
    ("us-west2", LOS_ANGELES),
    ("us-west3", DENVER),
    ("us-west4", LOS_ANGELES),
    ("northamerica-northeast1", TORONTO),
    ("northamerica-northeast2", TORONTO),
    ("northamerica-south1", MEXICO_CITY),
    ("southamerica-east1", SAO_PAULO),
    ("southamerica-west1", SANTIAGO),
    ("europe-west1", BRUSSELS),
    ("europe-west2", LONDON),
    ("europe-west3", BERLIN),
    ("europe-west4", AMSTERDAM),
    ("europe-west6", ZURICH),
    ("europe-west8", ROME),
    ("europe-west9", PARIS),
    ("europe-west10", BERLIN),
    ("europe-west12", ROME),
    ("europe-north1", HELSINKI),
    ("europe-north2", STOCKHOLM),
    ("europe-central2", WARSAW),
    ("europe-southwest1", MADRID),
    ("me-west1", JERUSALEM),
    ("me-central1", QATAR),
    ("me-central2", RIYADH),
    ("africa-south1", JOHANNESBURG),
    ("asia-east1", TAIPEI),
    ("asia-east2", HONG_KONG),
    ("asia-northeast1", TOKYO),
    ("asia-northeast2", TOKYO),
    ("asia-northeast3", SEOUL),
    ("asia-south1", KOLKATA),
    ("asia-south2", KOLKATA),
    ("asia-southeast1", SINGAPORE),
    ("asia-southeast2", JAKARTA),
    ("australia-southeast1", SYDNEY),
    ("australia-southeast2", MELBOURNE),
    // Azure
    ("eastus", NEW_YORK),
    ("eastus2", NEW_YORK),
    ("centralus", CHICAGO),
    ("northcentralus", CHICAGO),
    ("southcentralus", CHICAGO),
    ("westcentralus", DENVER),
    ("westus", LOS_ANGELES),
    ("westus2", LOS_ANGELES),
    ("westus3", PHOENIX),
    ("canadacentral", TORONTO),
    ("canadaeast", TORONTO),
    ("mexicocentral", MEXICO_CITY),
    ("brazilsouth", SAO_PAULO),
    ("chilecentral", SANTIAGO),
    ("northeurope", DUBLIN),
    ("westeurope", AMSTERDAM),
    ("uksouth", LONDON),
    ("ukwest", LONDON),
    ("francecentral", PARIS),
    ("francesouth", PARIS),
    ("germanywestcentral", BERLIN),
    ("germanynorth", BERLIN),
    ("switzerlandnorth", ZURICH),
    ("switzerlandwest", ZURICH),
    ("norwayeast", OSLO),
    ("norwaywest", OSLO),
    ("swedencentral", STOCKHOLM),
    ("polandcentral", WARSAW),
    ("italynorth", ROME),
    ("spaincentral", MADRID),
    ("israelcentral", JERUSALEM),
    ("qatarcentral", QATAR),
    ("uaenorth", DUBAI),
    ("uaecentral", DUBAI),
    ("southafricanorth", JOHANNESBURG),
    ("southafricawest", JOHANNESBURG),
    ("centralindia", KOLKATA),
    ("southindia", KOLKATA),
    ("westindia", KOLKATA),
    ("eastasia", HONG_KONG),
    ("southeastasia", SINGAPORE),
    ("japaneast", TOKYO),
    ("japanwest", TOKYO),
    ("koreacentral", SEOUL),
    ("koreasouth", SEOUL),
    ("australiaeast", SYDNEY),
    ("australiasoutheast", MELBOURNE),
    ("australiacentral", SYDNEY),
    ("newzealandnorth", AUCKLAND),
    ("indonesiacentral", JAKARTA),
    ("malaysiawest", KUALA_LUMPUR),
];

/// The location of a region, UTC for a region the table does not know.
pub fn zone_of_region(region: &str) -> Zone {
    REGIONS
        .iter()
        .find(|(r, _)| *r == region)
        .map_or(UTC, |(_, z)| *z)
}

/// The zone of `spec.alerting.timeZone` (the schema admits only names of `ZONES`); UTC
/// for any other name.
pub fn zone_named(name: &str) -> Zone {
    ZONES
        .iter()
        .find(|z| z.name == name)
        .copied()
        .unwrap_or(UTC)
}

/// The local business hours: Monday to Friday, from `START` to `END` (minutes after
/// midnight).
pub const START: i32 = 9 * 60;
pub const END: i32 = 17 * 60;

/// Business hours in a location, as the AlertmanagerConfig writes them.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BusinessHours {
    /// The interval's name (`activeTimeIntervals` of the routes name it).
    pub name: &'static str,
    /// The IANA time zone the hours are meant in (the YAML says it in a comment).
    pub location: &'static str,
    /// `UTC-05:00`, and in summer `UTC-04:00` where the zone has one.
    pub offsets: String,
    /// The same hours in UTC: each part's weekday ranges (`monday:friday`) and times.
    pub utc: Vec<UtcPart>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct UtcPart {
    pub weekdays: Vec<String>,
    pub start: String,
    pub end: String,
}

const DAY: i32 = 24 * 60;
const WEEK: i32 = 7 * DAY;
/// Alertmanager's day names, Sunday first (a weekday range never wraps past Saturday).
const DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

fn clock(minutes: i32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Business hours in `zone`, in UTC.
pub fn business_hours(zone: Zone) -> BusinessHours {
    let summer = zone.offset_minutes + if zone.summer_time { 60 } else { 0 };
    // The earliest opening (summer time) and the latest closing (standard time), in UTC.
    let (open, close) = (START - summer, END - zone.offset_minutes);
    // Each local weekday's window, in minutes since Sunday 00:00 UTC, cut at midnights.
    let mut parts: Vec<(i32, i32, i32)> = Vec::new(); // (UTC day, start, end)
    for local_day in 1..=5 {
        let (mut from, to) = (local_day * DAY + open, local_day * DAY + close);
        while from < to {
            let day = from.div_euclid(DAY);
            let end = to.min((day + 1) * DAY);
            let start = from - day * DAY;
            parts.push((day.rem_euclid(7), start, end - day * DAY));
            from = end;
        }
    }
    debug_assert!(close - open < WEEK);
    // One part per distinct (start, end), with the days it applies to as ranges.
    let mut times: Vec<(i32, i32)> = parts.iter().map(|&(_, s, e)| (s, e)).collect();
    times.sort_unstable();
    times.dedup();
    // The part that starts later in the day comes first where a window crosses midnight
    // (the evening before), as the week reads.
    times.sort_by_key(|&(s, _)| std::cmp::Reverse(s));
    let utc = times
        .into_iter()
        .map(|(start, end)| {
            let mut days: Vec<i32> = parts
                .iter()
                .filter(|&&(_, s, e)| (s, e) == (start, end))
                .map(|&(d, _, _)| d)
                .collect();
            days.sort_unstable();
            days.dedup();
            UtcPart {
                weekdays: day_ranges(&days),
                start: clock(start),
                end: clock(end),
            }
        })
        .collect();
    let offsets = if zone.summer_time {
        format!(
            "{}, {} in summer",
            offset_text(zone.offset_minutes),
            offset_text(summer)
        )
    } else {
        offset_text(zone.offset_minutes)
    };
    BusinessHours {
        name: "business-hours",
        location: zone.name,
        offsets,
        utc,
    }
}

/// Consecutive days (0 = Sunday) as Alertmanager's ranges: `monday:friday`, `sunday`.
fn day_ranges(days: &[i32]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let mut j = i;
        while j + 1 < days.len() && days[j + 1] == days[j] + 1 {
            j += 1;
        }
        let (a, b) = (DAYS[days[i] as usize], DAYS[days[j] as usize]);
        out.push(if i == j {
            a.to_owned()
        } else {
            format!("{a}:{b}")
        });
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_admits_exactly_the_zones_of_the_table() {
        let schema: serde_json::Value =
            serde_json::from_str(crate::assets::schema("environment.schema.json").unwrap())
                .unwrap();
        let pointer = "/properties/spec/properties/alerting/properties/timeZone/enum";
        let admitted: Vec<&str> = schema
            .pointer(pointer)
            .and_then(|e| e.as_array())
            .expect("timeZone enum in the schema")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let zones: Vec<&str> = ZONES.iter().map(|z| z.name).collect();
        assert_eq!(admitted, zones);
        for (_, zone) in REGIONS {
            assert!(zones.contains(&zone.name), "{} is not in ZONES", zone.name);
        }
    }

    #[test]
    fn a_named_zone_replaces_the_regions() {
        // An on-call team in New York for a Dublin region: 13:00–22:00 UTC, not Dublin's.
        assert_eq!(zone_named("America/New_York"), zone_of_region("us-east-1"));
        assert_ne!(zone_named("America/New_York"), zone_of_region("eu-west-1"));
        assert_eq!(zone_named("Pacific/Auckland").offset_minutes, 720);
    }

    fn parts(region: &str) -> Vec<(Vec<String>, String, String)> {
        business_hours(zone_of_region(region))
            .utc
            .into_iter()
            .map(|p| (p.weekdays, p.start, p.end))
            .collect()
    }

    fn part(days: &[&str], start: &str, end: &str) -> (Vec<String>, String, String) {
        (
            days.iter().map(|d| (*d).to_owned()).collect(),
            start.to_owned(),
            end.to_owned(),
        )
    }

    #[test]
    fn a_zone_west_of_utc_opens_an_hour_earlier_for_summer_time() {
        // 09:00 EDT is 13:00 UTC, 17:00 EST is 22:00 UTC.
        assert_eq!(
            parts("us-east-1"),
            [part(&["monday:friday"], "13:00", "22:00")]
        );
        let h = business_hours(zone_of_region("us-east-1"));
        assert_eq!(h.location, "America/New_York");
        assert_eq!(h.offsets, "UTC-05:00, UTC-04:00 in summer");
        // Dublin: 08:00–17:00 UTC; Singapore has no summer time: 01:00–09:00 UTC.
        assert_eq!(
            parts("eu-west-1"),
            [part(&["monday:friday"], "08:00", "17:00")]
        );
        assert_eq!(
            parts("asia-southeast1"),
            [part(&["monday:friday"], "01:00", "09:00")]
        );
        // Half-hour offsets, and Phoenix (no summer time) apart from Los Angeles.
        assert_eq!(
            parts("ap-south-1"),
            [part(&["monday:friday"], "03:30", "11:30")]
        );
        assert_eq!(
            parts("westus3"),
            [part(&["monday:friday"], "16:00", "24:00")]
        );
        // Los Angeles: 09:00 PDT is 16:00 UTC, 17:00 PST is 01:00 UTC the next day.
        assert_eq!(
            parts("westus2"),
            [
                part(&["monday:friday"], "16:00", "24:00"),
                part(&["tuesday:saturday"], "00:00", "01:00"),
            ]
        );
    }

    #[test]
    fn a_window_across_midnight_utc_is_split_into_both_days() {
        // Sydney (UTC+10, +11 in summer): Monday 09:00 local is Sunday 22:00 UTC.
        assert_eq!(
            parts("ap-southeast-2"),
            [
                part(&["sunday:thursday"], "22:00", "24:00"),
                part(&["monday:friday"], "00:00", "07:00"),
            ]
        );
        // Auckland (UTC+12, +13): Sunday 20:00 to Friday 05:00 UTC.
        assert_eq!(
            parts("ap-southeast-6"),
            [
                part(&["sunday:thursday"], "20:00", "24:00"),
                part(&["monday:friday"], "00:00", "05:00"),
            ]
        );
    }

    #[test]
    fn an_unknown_region_is_utc_and_every_region_is_listed_once() {
        assert_eq!(zone_of_region("xx-nowhere-9"), UTC);
        assert_eq!(
            parts("xx-nowhere-9"),
            [part(&["monday:friday"], "09:00", "17:00")]
        );
        let mut seen = std::collections::BTreeSet::new();
        for (region, _) in REGIONS {
            assert!(seen.insert(region), "{region} twice");
            let is_region = crate::spec::CloudProvider::ALL
                .iter()
                .filter(|c| c.is_region(region))
                .count();
            assert_eq!(is_region, 1, "{region} is a region of {is_region} clouds");
        }
    }

    #[test]
    fn every_local_business_minute_is_inside_the_utc_window_in_both_seasons() {
        for (region, zone) in REGIONS {
            let h = business_hours(*zone);
            let summer = zone.offset_minutes + i32::from(zone.summer_time) * 60;
            for offset in [zone.offset_minutes, summer] {
                for local_day in 1..=5 {
                    for minute in (START..END).step_by(15) {
                        let utc = (local_day * DAY + minute - offset).rem_euclid(WEEK);
                        let (day, at) = (utc / DAY, utc % DAY);
                        let inside = h.utc.iter().any(|p| {
                            let days = p.weekdays.iter().any(|r| {
                                let (a, b) = r.split_once(':').unwrap_or((r, r));
                                let i = |n: &str| DAYS.iter().position(|d| *d == n).unwrap();
                                (i(a)..=i(b)).contains(&(day as usize))
                            });
                            let m = |t: &str| {
                                let (h, m) = t.split_once(':').unwrap();
                                h.parse::<i32>().unwrap() * 60 + m.parse::<i32>().unwrap()
                            };
                            days && m(&p.start) <= at && at < m(&p.end)
                        });
                        assert!(inside, "{region}: day {local_day} {minute} at {offset}");
                    }
                }
            }
        }
    }
}
