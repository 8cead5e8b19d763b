//! Real Manchester (UK) streets with postcode districts and approximate coordinates.

/// (street, district, postcode prefix, lat, lng)
pub const STREETS: &[(&str, &str, &str, f64, f64)] = &[
    ("Deansgate", "City Centre", "M3 4LQ", 53.4794, -2.2497),
    ("Market Street", "City Centre", "M1 1WR", 53.4826, -2.2405),
    ("Portland Street", "City Centre", "M1 3LA", 53.4780, -2.2370),
    (
        "Oxford Road",
        "Chorlton-on-Medlock",
        "M13 9PL",
        53.4668,
        -2.2339,
    ),
    ("Wilmslow Road", "Rusholme", "M14 5TQ", 53.4545, -2.2232),
    ("Stockport Road", "Longsight", "M12 4AH", 53.4580, -2.2010),
    ("Hyde Road", "Gorton", "M18 7EU", 53.4628, -2.1790),
    ("Ashton Old Road", "Openshaw", "M11 2NW", 53.4735, -2.1870),
    ("Ashton New Road", "Clayton", "M11 4AT", 53.4842, -2.1870),
    ("Alan Turing Way", "Beswick", "M11 3FF", 53.4830, -2.2000),
    ("Oldham Road", "Ancoats", "M4 5EA", 53.4880, -2.2240),
    (
        "Great Ancoats Street",
        "Ancoats",
        "M4 5AD",
        53.4842,
        -2.2290,
    ),
    ("Rochdale Road", "Collyhurst", "M9 8AE", 53.5010, -2.2250),
    (
        "Cheetham Hill Road",
        "Cheetham Hill",
        "M8 8PF",
        53.5040,
        -2.2400,
    ),
    ("Bury Old Road", "Cheetham Hill", "M8 9JN", 53.5140, -2.2390),
    ("Victoria Avenue", "Blackley", "M9 0RA", 53.5230, -2.2190),
    ("Moston Lane", "Moston", "M40 9NB", 53.5140, -2.1900),
    ("Queens Road", "Harpurhey", "M40 8RW", 53.5030, -2.2100),
    ("Princess Road", "Moss Side", "M15 5AS", 53.4590, -2.2470),
    ("Stretford Road", "Hulme", "M15 5JH", 53.4655, -2.2540),
    ("Chorlton Road", "Old Trafford", "M16 7AP", 53.4600, -2.2620),
    (
        "Upper Chorlton Road",
        "Whalley Range",
        "M16 7RN",
        53.4520,
        -2.2660,
    ),
    ("Barlow Moor Road", "Chorlton", "M21 8AE", 53.4410, -2.2770),
    ("Beech Road", "Chorlton", "M21 9EG", 53.4415, -2.2860),
    ("Manchester Road", "Chorlton", "M21 9PQ", 53.4465, -2.2760),
    ("Burton Road", "West Didsbury", "M20 1LH", 53.4280, -2.2400),
    ("Lapwing Lane", "West Didsbury", "M20 2NT", 53.4270, -2.2440),
    ("Palatine Road", "Northenden", "M22 4HA", 53.4120, -2.2480),
    ("Kingsway", "Burnage", "M19 2GU", 53.4380, -2.2110),
    ("Mauldeth Road", "Fallowfield", "M14 6SG", 53.4425, -2.2200),
    ("Wilbraham Road", "Fallowfield", "M14 6JS", 53.4460, -2.2250),
    ("Slade Lane", "Levenshulme", "M19 2AE", 53.4480, -2.1990),
    ("Dickenson Road", "Rusholme", "M14 5HF", 53.4530, -2.2150),
    ("Claremont Road", "Moss Side", "M14 4RS", 53.4570, -2.2300),
    ("Upper Brook Street", "Ardwick", "M13 0FB", 53.4660, -2.2260),
    (
        "Whitworth Street",
        "City Centre",
        "M1 3NR",
        53.4752,
        -2.2377,
    ),
    ("Quay Street", "Spinningfields", "M3 3JE", 53.4795, -2.2530),
    ("Liverpool Road", "Castlefield", "M3 4JR", 53.4768, -2.2555),
    (
        "Princess Parkway",
        "Wythenshawe",
        "M22 5RQ",
        53.3950,
        -2.2600,
    ),
    (
        "Hollyhedge Road",
        "Wythenshawe",
        "M22 4QN",
        53.4000,
        -2.2660,
    ),
];

/// Customer organisations (fictional businesses).
pub const ORGS: &[&str] = &[
    "Irwell Property Group",
    "Ancoats Bakeries",
    "Northern Quarter Studios",
    "Didsbury Dental Care",
    "Hulme Community Trust",
    "Castlefield Hotels",
    "Rusholme Restaurants Ltd",
    "Cheetham Textiles",
];

/// First names.
pub const FIRST: &[&str] = &[
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Grace", "Leo", "Freya",
    "Harry", "Lily", "Oscar", "Zara", "Jack", "Priya", "Mohammed", "Aisha", "Ethan", "Sophie",
    "Kwame", "Hannah", "Tomasz", "Niamh", "Callum", "Fatima", "Rhys", "Chloe", "Imran", "Ellie",
    "Dylan",
];

/// Last names.
pub const LAST: &[&str] = &[
    "Walsh",
    "Khan",
    "Patel",
    "Hughes",
    "Roberts",
    "Nowak",
    "Murphy",
    "Clarke",
    "Begum",
    "Evans",
    "Shaw",
    "Okafor",
    "Taylor",
    "Ahmed",
    "Lees",
    "Byrne",
    "Whittaker",
    "Ashworth",
    "Singh",
    "Kowalski",
    "Barlow",
    "Greenwood",
    "Hussain",
    "Fletcher",
];

/// Technician skills.
pub const SKILLS: &[&str] = &[
    "electrical",
    "plumbing",
    "hvac",
    "gas-safe",
    "networking",
    "cctv",
    "fire-alarm",
    "locksmith",
    "carpentry",
    "it-hardware",
];

/// Field job summaries with the skill they need.
pub const FIELD_JOBS: &[(&str, &str)] = &[
    ("Boiler not firing", "gas-safe"),
    ("Tripping consumer unit", "electrical"),
    ("Leaking radiator valve", "plumbing"),
    ("Air conditioning unit not cooling", "hvac"),
    ("Replace faulty CCTV camera", "cctv"),
    ("Fire alarm panel fault", "fire-alarm"),
    ("Door lock jammed", "locksmith"),
    ("Broken office door closer", "carpentry"),
    ("Network switch offline", "networking"),
    ("Printer hardware failure", "it-hardware"),
    ("Emergency lighting test failed", "electrical"),
    ("Blocked drain in kitchen", "plumbing"),
    ("Annual gas safety inspection", "gas-safe"),
    ("Install new data points", "networking"),
    ("Replace extractor fan", "hvac"),
];

/// IT support summaries.
pub const IT_JOBS: &[&str] = &[
    "Cannot log in to VPN",
    "Laptop running slowly",
    "New starter account setup",
    "Outlook keeps crashing",
    "Request access to shared drive",
    "Password reset",
    "Monitor flickering",
    "Wi-Fi drops in meeting room",
];
