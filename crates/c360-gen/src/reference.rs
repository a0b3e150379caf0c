//! Hard-coded reference data: categories, merchants, US states and cities, names, hours.
//!
//! Everything here is a constant so the generated data never depends on anything outside
//! the crate. State weights are 2020 census populations (thousands); the cities are real
//! cities of their state, largest first.

use std::sync::LazyLock;

/// Number of merchant categories.
pub const NUM_CATEGORIES: usize = 10;
/// Merchants per category.
pub const MERCHANTS_PER_CATEGORY: usize = 100;

/// The merchant categories, in the generator's internal order.
pub const CATEGORIES: [&str; NUM_CATEGORIES] = [
    "Airlines",
    "Hotels",
    "Travel",
    "Dining",
    "Entertainment",
    "Retail",
    "Grocery",
    "Gas",
    "Utilities",
    "Healthcare",
];

/// Typical amount of one transaction of each category, in dollars, before the customer's
/// amount scale.
pub(crate) const BASE_AMOUNT: [f64; NUM_CATEGORIES] = [
    450.0, 280.0, 200.0, 45.0, 60.0, 85.0, 65.0, 45.0, 120.0, 90.0,
];

/// The three channels, canonical spelling.
pub const CHANNELS: [&str; 3] = ["Online", "In-Store", "Mobile"];

/// Channel shares (Online, In-Store, Mobile) per category.
pub(crate) const CHANNEL_SHARES: [[f64; 3]; NUM_CATEGORIES] = [
    [0.70, 0.05, 0.25], // Airlines
    [0.65, 0.10, 0.25], // Hotels
    [0.60, 0.15, 0.25], // Travel
    [0.05, 0.80, 0.15], // Dining
    [0.40, 0.35, 0.25], // Entertainment
    [0.30, 0.50, 0.20], // Retail
    [0.08, 0.80, 0.12], // Grocery
    [0.02, 0.93, 0.05], // Gas
    [0.60, 0.05, 0.35], // Utilities
    [0.20, 0.65, 0.15], // Healthcare
];

/// Relative frequency of transactions by hour of day (UTC), few at night.
pub(crate) const HOUR_WEIGHTS: [f64; 24] = [
    0.6, 0.35, 0.2, 0.15, 0.2, 0.5, 1.5, 3.0, 4.5, 5.5, 6.0, 7.0, 8.5, 7.5, 6.5, 6.5, 7.0, 7.5,
    8.0, 7.5, 6.0, 4.5, 3.0, 1.5,
];

/// Merchant names are `prefix + " " + suffix`, 10 × 10 per category.
#[rustfmt::skip]
const MERCHANT_PARTS: [([&str; 10], [&str; 10]); NUM_CATEGORIES] = [
    (
        ["Summit", "Blue Sky", "Pacific", "Atlas", "Horizon", "Eagle", "Liberty", "Coastal", "Northstar", "Silverline"],
        ["Air", "Airlines", "Airways", "Jet", "Wings", "Aviation", "Skyways", "Air Express", "Aero", "Flight"],
    ),
    (
        ["Harbor", "Grand", "Lakeside", "Parkview", "Royal", "Cedar", "Willow", "Regency", "Meridian", "Crescent"],
        ["Inn", "Inn & Suites", "Hotel", "Suites", "Lodge", "Resort", "Plaza Hotel", "House Hotel", "Boutique Hotel", "Extended Stay"],
    ),
    (
        ["Wanderlust", "Globe", "Compass", "Voyager", "Journey", "Explorer", "Trailhead", "Odyssey", "Passport", "Roam"],
        ["Travel", "Tours", "Cruises", "Vacations", "Getaways", "Car Rental", "Expeditions", "Travel Co", "Adventures", "Rail"],
    ),
    (
        ["Blue Fork", "Golden Spoon", "Rustic", "Olive", "Copper Pot", "Urban", "Sunset", "Maple", "Ember", "Saffron"],
        ["Bistro", "Grill", "Kitchen", "Cafe", "Diner", "Tavern", "Trattoria", "Eatery", "Steakhouse", "Taqueria"],
    ),
    (
        ["Starlight", "Galaxy", "Marquee", "Encore", "Neon", "Backstage", "Spotlight", "Arcadia", "Velvet", "Pinnacle"],
        ["Cinemas", "Theater", "Arcade", "Live", "Bowl", "Music Hall", "Comedy Club", "Stream", "Games", "Arena"],
    ),
    (
        ["Main Street", "Trendline", "Evergreen", "Bright", "Hudson", "Parkside", "Metro", "Northwind", "Sterling", "Modern"],
        ["Outfitters", "Goods", "Mart", "Boutique", "Department Store", "Apparel", "Home", "Electronics", "Emporium", "Supply Co"],
    ),
    (
        ["Freshway", "Green Valley", "Harvest", "Family", "Sunrise", "Farmstead", "Orchard", "Corner", "Prairie", "Golden Grain"],
        ["Market", "Grocers", "Foods", "Supermarket", "Food Co-op", "Fresh Market", "Pantry", "Organics", "Food Mart", "Market Hall"],
    ),
    (
        ["QuickFuel", "Roadrunner", "Highway", "Patriot", "Crossroads", "Redline", "Mile Marker", "Express", "Pioneer", "Cardinal"],
        ["Gas", "Fuel", "Petroleum", "Gas & Go", "Fuel Stop", "Service Station", "Travel Center", "Energy", "Gas Mart", "Petro"],
    ),
    (
        ["Metro", "Valley", "River City", "Tri-County", "Clearwater", "Keystone", "Bluegrass", "Cascade", "Heartland", "Lakeshore"],
        ["Power", "Electric", "Water", "Gas Co", "Energy Co", "Telecom", "Broadband", "Wireless", "Utilities", "Waste Services"],
    ),
    (
        ["CityCare", "Wellspring", "Riverside", "Lakeview", "Oakwood", "Bayside", "Hillcrest", "Mercy Park", "Brightpath", "Greenleaf"],
        ["Pharmacy", "Medical Center", "Clinic", "Dental", "Urgent Care", "Family Medicine", "Pediatrics", "Vision Center", "Physical Therapy", "Labs"],
    ),
];

/// All merchant names; merchant `c * 100 + j` belongs to category `c`.
pub(crate) static MERCHANT_NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut names = Vec::with_capacity(NUM_CATEGORIES * MERCHANTS_PER_CATEGORY);
    for (prefixes, suffixes) in &MERCHANT_PARTS {
        // Walk the 10x10 grid diagonally so that neighbouring merchants differ in both parts.
        for j in 0..MERCHANTS_PER_CATEGORY {
            let (p, s) = (j % 10, (j / 10 + j) % 10);
            names.push(format!("{} {}", prefixes[p], suffixes[s]));
        }
    }
    names
});

/// Every merchant the generator uses, with its category: `(merchant_name, merchant_category)`.
/// Each merchant belongs to exactly one category.
pub fn merchants() -> impl Iterator<Item = (&'static str, &'static str)> {
    MERCHANT_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_str(), CATEGORIES[i / MERCHANTS_PER_CATEGORY]))
}

/// A US state (or DC): postal code, 2020 population in thousands, real cities largest first.
pub(crate) struct State {
    pub code: &'static str,
    pub population: f64,
    pub cities: &'static [&'static str],
}

const fn st(code: &'static str, population: f64, cities: &'static [&'static str]) -> State {
    State {
        code,
        population,
        cities,
    }
}

/// The 50 states and the District of Columbia.
#[rustfmt::skip]
pub(crate) const STATES: [State; 51] = [
    st("CA", 39538.0, &["Los Angeles", "San Diego", "San Jose", "San Francisco", "Fresno", "Sacramento", "Long Beach", "Oakland"]),
    st("TX", 29146.0, &["Houston", "San Antonio", "Dallas", "Austin", "Fort Worth", "El Paso", "Arlington", "Plano"]),
    st("FL", 21538.0, &["Jacksonville", "Miami", "Tampa", "Orlando", "St. Petersburg", "Hialeah", "Tallahassee", "Fort Lauderdale"]),
    st("NY", 20201.0, &["New York", "Buffalo", "Rochester", "Yonkers", "Syracuse", "Albany", "New Rochelle"]),
    st("PA", 13003.0, &["Philadelphia", "Pittsburgh", "Allentown", "Erie", "Reading", "Scranton"]),
    st("IL", 12813.0, &["Chicago", "Aurora", "Naperville", "Joliet", "Rockford", "Springfield"]),
    st("OH", 11799.0, &["Columbus", "Cleveland", "Cincinnati", "Toledo", "Akron", "Dayton"]),
    st("GA", 10712.0, &["Atlanta", "Augusta", "Columbus", "Macon", "Savannah", "Athens"]),
    st("NC", 10439.0, &["Charlotte", "Raleigh", "Greensboro", "Durham", "Winston-Salem", "Fayetteville"]),
    st("MI", 10077.0, &["Detroit", "Grand Rapids", "Warren", "Sterling Heights", "Ann Arbor", "Lansing"]),
    st("NJ", 9289.0, &["Newark", "Jersey City", "Paterson", "Elizabeth", "Trenton", "Camden"]),
    st("VA", 8631.0, &["Virginia Beach", "Chesapeake", "Norfolk", "Richmond", "Newport News", "Alexandria"]),
    st("WA", 7705.0, &["Seattle", "Spokane", "Tacoma", "Vancouver", "Bellevue", "Everett"]),
    st("AZ", 7152.0, &["Phoenix", "Tucson", "Mesa", "Chandler", "Scottsdale", "Tempe"]),
    st("MA", 7030.0, &["Boston", "Worcester", "Springfield", "Cambridge", "Lowell"]),
    st("TN", 6911.0, &["Nashville", "Memphis", "Knoxville", "Chattanooga", "Clarksville"]),
    st("IN", 6786.0, &["Indianapolis", "Fort Wayne", "Evansville", "South Bend", "Carmel"]),
    st("MD", 6177.0, &["Baltimore", "Frederick", "Rockville", "Gaithersburg", "Annapolis"]),
    st("MO", 6154.0, &["Kansas City", "St. Louis", "Springfield", "Columbia", "Independence"]),
    st("WI", 5894.0, &["Milwaukee", "Madison", "Green Bay", "Kenosha", "Racine"]),
    st("CO", 5774.0, &["Denver", "Colorado Springs", "Aurora", "Fort Collins", "Boulder"]),
    st("MN", 5706.0, &["Minneapolis", "St. Paul", "Rochester", "Duluth", "Bloomington"]),
    st("SC", 5119.0, &["Charleston", "Columbia", "North Charleston", "Greenville", "Rock Hill"]),
    st("AL", 5024.0, &["Huntsville", "Birmingham", "Montgomery", "Mobile", "Tuscaloosa"]),
    st("LA", 4658.0, &["New Orleans", "Baton Rouge", "Shreveport", "Lafayette", "Lake Charles"]),
    st("KY", 4506.0, &["Louisville", "Lexington", "Bowling Green", "Owensboro", "Covington"]),
    st("OR", 4237.0, &["Portland", "Salem", "Eugene", "Gresham", "Bend"]),
    st("OK", 3959.0, &["Oklahoma City", "Tulsa", "Norman", "Broken Arrow", "Edmond"]),
    st("CT", 3606.0, &["Bridgeport", "Stamford", "New Haven", "Hartford", "Waterbury"]),
    st("UT", 3272.0, &["Salt Lake City", "West Valley City", "West Jordan", "Provo", "Orem"]),
    st("IA", 3190.0, &["Des Moines", "Cedar Rapids", "Davenport", "Sioux City", "Iowa City"]),
    st("NV", 3105.0, &["Las Vegas", "Henderson", "Reno", "North Las Vegas", "Sparks"]),
    st("AR", 3012.0, &["Little Rock", "Fayetteville", "Fort Smith", "Springdale", "Jonesboro"]),
    st("MS", 2961.0, &["Jackson", "Gulfport", "Southaven", "Hattiesburg", "Biloxi"]),
    st("KS", 2938.0, &["Wichita", "Overland Park", "Kansas City", "Olathe", "Topeka"]),
    st("NM", 2118.0, &["Albuquerque", "Las Cruces", "Rio Rancho", "Santa Fe"]),
    st("NE", 1962.0, &["Omaha", "Lincoln", "Bellevue", "Grand Island"]),
    st("ID", 1839.0, &["Boise", "Meridian", "Nampa", "Idaho Falls"]),
    st("WV", 1794.0, &["Charleston", "Huntington", "Morgantown", "Parkersburg"]),
    st("HI", 1455.0, &["Honolulu", "Pearl City", "Hilo", "Kailua"]),
    st("NH", 1378.0, &["Manchester", "Nashua", "Concord", "Dover"]),
    st("ME", 1362.0, &["Portland", "Lewiston", "Bangor", "South Portland"]),
    st("RI", 1097.0, &["Providence", "Warwick", "Cranston", "Pawtucket"]),
    st("MT", 1084.0, &["Billings", "Missoula", "Great Falls", "Bozeman"]),
    st("DE", 990.0, &["Wilmington", "Dover", "Newark"]),
    st("SD", 887.0, &["Sioux Falls", "Rapid City", "Aberdeen"]),
    st("ND", 779.0, &["Fargo", "Bismarck", "Grand Forks"]),
    st("AK", 733.0, &["Anchorage", "Fairbanks", "Juneau"]),
    // The District has a single city.
    st("DC", 690.0, &["Washington"]),
    st("VT", 643.0, &["Burlington", "South Burlington", "Rutland", "Montpelier"]),
    st("WY", 577.0, &["Cheyenne", "Casper", "Laramie", "Gillette"]),
];

/// Cumulative population weights of [`STATES`].
pub(crate) static STATE_CUMULATIVE: LazyLock<Vec<f64>> =
    LazyLock::new(|| crate::rng::cumulative(&STATES.map(|s| s.population)));

#[rustfmt::skip]
pub(crate) const FIRST_NAMES: [&str; 160] = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Christopher", "Karen", "Charles", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
    "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily",
    "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian",
    "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Dorothy", "Jason",
    "Rebecca", "Edward", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob", "Amy", "Gary",
    "Kathleen", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Brenda", "Stephen", "Emma",
    "Larry", "Anna", "Justin", "Pamela", "Scott", "Nicole", "Brandon", "Samantha", "Benjamin",
    "Katherine", "Samuel", "Christine", "Gregory", "Helen", "Alexander", "Debra", "Patrick",
    "Rachel", "Frank", "Carolyn", "Raymond", "Janet", "Jack", "Maria", "Dennis", "Catherine",
    "Jerry", "Heather", "Tyler", "Diane", "Aaron", "Olivia", "Jose", "Julie", "Adam", "Joyce",
    "Nathan", "Victoria", "Henry", "Ruth", "Zachary", "Virginia", "Douglas", "Lauren", "Peter",
    "Kelly", "Kyle", "Christina", "Noah", "Joan", "Ethan", "Evelyn", "Jeremy", "Judith", "Walter",
    "Andrea", "Christian", "Hannah", "Keith", "Megan", "Roger", "Cheryl", "Terry", "Jacqueline",
    "Austin", "Martha", "Sean", "Madison", "Gerald", "Teresa", "Carl", "Gloria", "Harold", "Sara",
    "Dylan", "Janice", "Arthur", "Ann", "Lawrence", "Kathryn", "Jordan", "Abigail", "Jesse",
    "Sophia", "Bryan", "Frances", "Gabriel", "Grace",
];

#[rustfmt::skip]
pub(crate) const LAST_NAMES: [&str; 160] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
    "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
    "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
    "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed",
    "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez",
    "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell",
    "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander",
    "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes",
    "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray",
    "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald", "Woods",
    "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker",
    "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
];

pub(crate) const EMAIL_DOMAINS: [&str; 7] = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "hotmail.com",
    "aol.com",
    "proton.me",
];

/// Employment statuses, canonical spelling.
pub(crate) const EMPLOYMENT: [&str; 5] = [
    "Employed",
    "Self-Employed",
    "Retired",
    "Unemployed",
    "Student",
];

/// Employment weights (same order as [`EMPLOYMENT`]) for an age.
pub(crate) fn employment_weights(age: i32) -> [f64; 5] {
    if age < 26 {
        [0.50, 0.05, 0.0, 0.10, 0.35]
    } else if age < 60 {
        [0.73, 0.15, 0.02, 0.07, 0.03]
    } else {
        [0.30, 0.12, 0.55, 0.03, 0.0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn merchants_are_unique_and_one_category_each() {
        let names: BTreeSet<&str> = merchants().map(|(m, _)| m).collect();
        assert_eq!(names.len(), NUM_CATEGORIES * MERCHANTS_PER_CATEGORY);
        for c in CATEGORIES {
            assert_eq!(
                merchants().filter(|(_, k)| *k == c).count(),
                MERCHANTS_PER_CATEGORY
            );
        }
    }

    #[test]
    fn states_have_real_city_lists() {
        let codes: BTreeSet<&str> = STATES.iter().map(|s| s.code).collect();
        assert_eq!(codes.len(), 51);
        for s in &STATES {
            let n = s.cities.len();
            assert!((3..=8).contains(&n) || s.code == "DC", "{}", s.code);
            let distinct: BTreeSet<_> = s.cities.iter().collect();
            assert_eq!(distinct.len(), n, "{}", s.code);
        }
        let names: BTreeSet<&str> = FIRST_NAMES.iter().copied().collect();
        assert_eq!(names.len(), FIRST_NAMES.len());
        let names: BTreeSet<&str> = LAST_NAMES.iter().copied().collect();
        assert_eq!(names.len(), LAST_NAMES.len());
    }
}
