/**
 * Vocabularies and sentence templates of the benchmark data: personal and work notes of the
 * kind an assistant remembers (people, places, projects, dates, amounts). Used by generate.ts
 * for memories and for search queries about them.
 */
import type { Rng } from "./prng";

export const FIRST_NAMES = [
  "Alice", "Bob", "Carlos", "Dana", "Elena", "Farid", "Grace", "Hiro", "Ingrid", "Jamal",
  "Keiko", "Liam", "Maya", "Nikolai", "Olivia", "Priya", "Quentin", "Rosa", "Samir", "Tara",
  "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aaron", "Beatriz", "Chen", "Deepa",
  "Emil", "Fatima", "Gustav", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Nadia",
  "Oscar", "Paula", "Rafael", "Sofia", "Tomas", "Ursula", "Viktor", "Wanda", "Yara", "Zain",
];
export const LAST_NAMES = [
  "Smith", "Garcia", "Nguyen", "Müller", "Rossi", "Kowalski", "Tanaka", "Okafor", "Silva", "Novak",
  "Haddad", "Johansson", "Dubois", "Patel", "Kim", "Fischer", "Moreau", "Costa", "Ivanova", "Brown",
];
export const RELATIONS = [
  "my sister", "my brother", "mom", "dad", "my partner", "grandma", "my neighbour", "my son",
  "my daughter", "my cousin", "my best friend", "my aunt", "my uncle", "my landlord",
];
export const ROLES = [
  "manager", "tech lead", "designer", "product owner", "recruiter", "accountant", "client",
  "contractor", "intern", "CTO", "sales lead", "data scientist", "support engineer",
];
export const PROJECTS = [
  "Atlas", "Borealis", "Cobalt", "Delta", "Everest", "Falcon", "Granite", "Helios", "Ion",
  "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orion", "Pioneer", "Quasar", "Redwood",
  "Sapphire", "Titan", "Umbra", "Vortex", "Willow", "Zephyr",
];
export const SYSTEMS = [
  "billing service", "search API", "mobile app", "data pipeline", "checkout flow", "admin dashboard",
  "auth gateway", "recommendation engine", "invoice generator", "notification service",
  "reporting warehouse", "onboarding wizard", "payments ledger", "customer portal",
];
export const TECH = [
  "Kubernetes", "PostgreSQL", "Redis", "Kafka", "Terraform", "React", "TypeScript", "Rust",
  "Go", "Python", "GraphQL", "gRPC", "Elasticsearch", "Airflow", "Snowflake", "Docker",
];
export const CITIES = [
  "Lisbon", "Berlin", "Tokyo", "Nairobi", "Toronto", "Madrid", "Oslo", "Seoul", "Lima",
  "Cape Town", "Melbourne", "Prague", "Istanbul", "Montreal", "Bangalore", "Edinburgh",
  "Mexico City", "Amsterdam", "Vienna", "Singapore", "Copenhagen", "Buenos Aires",
];
export const PLACES = [
  "the airport garage", "the office kitchen", "the gym", "the library", "the farmers market",
  "the train station", "the coworking space", "the pharmacy", "the hardware store", "the park",
  "the dentist", "the bakery on the corner", "the climbing hall", "the post office", "the mall",
];
export const RESTAURANTS = [
  "Casa Lupe", "The Green Fork", "Sakura Ramen", "Bistro 42", "Trattoria Nonna", "Spice Route",
  "Le Petit Coin", "Blue Lagoon Sushi", "Smokehouse 9", "Olive & Thyme", "Pho Saigon", "Taverna Mykonos",
];
export const ITEMS = [
  "passport", "spare keys", "winter jacket", "charger", "umbrella", "headphones", "tax documents",
  "warranty card", "bike lock", "reading glasses", "camera", "hiking boots", "USB stick", "wallet",
  "car title", "birth certificate", "power drill", "yoga mat", "tent", "blender manual",
];
export const STORAGE = [
  "the top drawer of the desk", "the blue box in the attic", "the hallway closet", "the glovebox",
  "the basement shelf", "my backpack's front pocket", "the kitchen cabinet above the fridge",
  "the safe in the bedroom", "the garage workbench", "the filing cabinet at work",
];
export const FOODS = [
  "lasagna", "banana bread", "pad thai", "shakshuka", "chili con carne", "miso soup", "risotto",
  "tacos al pastor", "lentil curry", "apple pie", "gazpacho", "pierogi", "bibimbap", "ratatouille",
];
export const BOOKS = [
  "Thinking, Fast and Slow", "The Pragmatic Programmer", "Dune", "Sapiens", "Project Hail Mary",
  "Designing Data-Intensive Applications", "The Overstory", "Atomic Habits", "Klara and the Sun",
  "The Left Hand of Darkness", "Educated", "The Three-Body Problem", "Deep Work", "Circe",
];
export const HOBBIES = [
  "guitar", "bouldering", "sourdough baking", "Spanish lessons", "running", "chess", "pottery",
  "gardening", "photography", "swimming", "woodworking", "salsa dancing",
];
export const SHOPPING = [
  "oat milk", "coffee beans", "batteries", "light bulbs", "dish soap", "olive oil", "printer paper",
  "dog food", "sunscreen", "rice", "tomatoes", "toothpaste", "a birthday card", "trash bags",
];
export const EXPENSES = [
  "rent", "groceries", "the electricity bill", "car insurance", "the gym membership", "internet",
  "the vet", "school fees", "the plumber", "flights", "the phone plan", "streaming services",
];
export const APPOINTMENTS = [
  "dentist", "eye exam", "physiotherapy", "annual check-up", "haircut", "vaccination",
  "dermatologist", "blood test", "car service", "parent-teacher meeting", "tax advisor",
];
export const MEDS = ["ibuprofen", "vitamin D", "antihistamines", "iron supplements", "eye drops", "magnesium"];
export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
export const MONTHS = [
  "January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December",
];
export const TOPICS = [
  "the Q3 roadmap", "the hiring plan", "the outage postmortem", "the budget review", "pricing",
  "the migration timeline", "the security audit", "on-call rotation", "the launch checklist",
  "the customer churn numbers", "the API deprecation", "performance targets", "the vendor contract",
];
export const CURRENCIES = ["EUR", "USD", "GBP"];
export const SOURCES = ["note", "chat", "email", "voice", "calendar"];
export const PRIORITIES = ["low", "medium", "high"];

export function person(rng: Rng): string {
  return rng.chance(0.3) ? `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}` : rng.pick(FIRST_NAMES);
}

export function time(rng: Rng): string {
  const h = rng.int(7, 20);
  const m = rng.pick(["00", "15", "30", "45"]);
  return `${h}:${m}`;
}

export function amount(rng: Rng, min = 5, max = 2500): { value: number; currency: string; text: string } {
  const value = Math.round((min + rng.next() * rng.next() * (max - min)) * 100) / 100;
  const currency = rng.pick(CURRENCIES);
  const symbol = currency === "EUR" ? "€" : currency === "USD" ? "$" : "£";
  return { value, currency, text: `${symbol}${value.toFixed(2)}` };
}

/** One template's output: the text, its kind, tags and kind-specific metadata. */
export interface Draft {
  content: string;
  kind: string;
  tags: string[];
  extra: Record<string, unknown>;
}

type Template = (rng: Rng, day: string) => Draft;

const lower = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

/** Memory templates, weighted by repetition in the list where a kind is more common. */
export const TEMPLATES: Template[] = [
  (r) => {
    const p = person(r), proj = r.pick(PROJECTS), topic = r.pick(TOPICS);
    return { content: `Met with ${p} about ${topic} for project ${proj}; they want a draft by ${r.pick(WEEKDAYS)}.`, kind: "meeting", tags: ["meeting", lower(proj)], extra: { project: proj, people: [p] } };
  },
  (r) => {
    const p = person(r), role = r.pick(ROLES), proj = r.pick(PROJECTS);
    return { content: `${p} is the new ${role} on ${proj}. Prefers async updates and hates long meetings.`, kind: "work", tags: ["people", lower(proj)], extra: { project: proj, people: [p] } };
  },
  (r) => {
    const sys = r.pick(SYSTEMS), tech = r.pick(TECH), proj = r.pick(PROJECTS);
    return { content: `Our team uses ${tech} for the ${sys} in ${proj}; the staging cluster is rebuilt every night.`, kind: "work", tags: ["tech", lower(tech)], extra: { project: proj, tech } };
  },
  (r) => {
    const sys = r.pick(SYSTEMS), n = r.int(2, 95), p = person(r);
    return { content: `Incident: the ${sys} was down for ${n} minutes after a bad deploy. ${p} rolled it back; postmortem due Friday.`, kind: "work", tags: ["incident", lower(sys)], extra: { people: [p], minutes: n } };
  },
  (r, day) => {
    const proj = r.pick(PROJECTS), m = r.pick(MONTHS);
    return { content: `Deadline for ${proj} moved to the end of ${m}. Need to tell the client before ${day}.`, kind: "work", tags: ["deadline", lower(proj)], extra: { project: proj, due_month: m } };
  },
  (r) => {
    const p = person(r), tech = r.pick(TECH);
    return { content: `${p} recommended a talk on ${tech} performance tuning; watch it before the architecture review.`, kind: "learning", tags: ["learning", lower(tech)], extra: { people: [p], tech } };
  },
  (r) => {
    const a = amount(r, 200, 20000), proj = r.pick(PROJECTS), p = person(r);
    return { content: `Budget for ${proj} approved at ${a.text}; ${p} signs off on anything above that.`, kind: "finance", tags: ["budget", lower(proj)], extra: { project: proj, amount: a.value, currency: a.currency, people: [p] } };
  },
  (r) => {
    const p = person(r), proj = r.pick(PROJECTS);
    return { content: `1:1 with ${p}: wants to move from ${proj} to a platform team next quarter. Follow up in two weeks.`, kind: "meeting", tags: ["one-on-one", "career"], extra: { people: [p], project: proj } };
  },
  (r) => {
    const place = r.pick(PLACES), lvl = r.int(1, 6), row = String.fromCharCode(65 + r.int(0, 11));
    return { content: `Parked at ${place}, level ${lvl}, row ${row}. Ticket is in the cup holder.`, kind: "travel", tags: ["parking"], extra: { level: lvl } };
  },
  (r, day) => {
    const city = r.pick(CITIES), airline = r.pick(["TAP", "Lufthansa", "KLM", "Iberia", "ANA", "Air Canada", "easyJet"]);
    const code = `${String.fromCharCode(65 + r.int(0, 25))}${String.fromCharCode(65 + r.int(0, 25))}${r.int(100, 9999)}`;
    return { content: `Flight to ${city} with ${airline} on ${day}, booking reference ${code}. Seat ${r.int(3, 38)}${r.pick(["A", "C", "D", "F"])}.`, kind: "travel", tags: ["flight", lower(city)], extra: { city, booking: code } };
  },
  (r) => {
    const city = r.pick(CITIES), rest = r.pick(RESTAURANTS), food = r.pick(FOODS);
    return { content: `In ${city}, ${rest} had the best ${food} I've ever eaten. Book ahead on weekends.`, kind: "travel", tags: ["food", lower(city)], extra: { city, restaurant: rest } };
  },
  (r) => {
    const city = r.pick(CITIES), n = r.int(2, 14), a = amount(r, 80, 400);
    return { content: `Hotel in ${city} for ${n} nights at ${a.text} per night; free cancellation until a week before.`, kind: "travel", tags: ["hotel", lower(city)], extra: { city, nights: n, amount: a.value, currency: a.currency } };
  },
  (r, day) => {
    const appt = r.pick(APPOINTMENTS), t = time(r), wd = r.pick(WEEKDAYS);
    return { content: `The ${appt} appointment is at ${t} on ${wd} (${day}). Bring the insurance card.`, kind: "health", tags: ["appointment", lower(appt)], extra: { appointment: appt, weekday: wd } };
  },
  (r) => {
    const med = r.pick(MEDS), n = r.int(1, 3);
    return { content: `Doctor said to take ${med} ${n === 1 ? "once" : n === 2 ? "twice" : "three times"} a day for two weeks, with food.`, kind: "health", tags: ["medication", lower(med)], extra: { medication: med } };
  },
  (r) => {
    const hobby = r.pick(HOBBIES), n = r.int(2, 12);
    return { content: `Did ${n} sessions of ${hobby} this month; feeling a lot better about my back and my sleep.`, kind: "health", tags: ["habit", lower(hobby)], extra: { hobby, sessions: n } };
  },
  (r) => {
    const rel = r.pick(RELATIONS), m = r.pick(MONTHS), d = r.int(1, 28), gift = r.pick(BOOKS);
    return { content: `${rel[0]!.toUpperCase()}${rel.slice(1)}'s birthday is on ${m} ${d}. Idea for a gift: "${gift}".`, kind: "family", tags: ["birthday", "gift"], extra: { relation: rel, birthday: `${m} ${d}` } };
  },
  (r) => {
    const rel = r.pick(RELATIONS), food = r.pick(FOODS);
    return { content: `${rel[0]!.toUpperCase()}${rel.slice(1)} is allergic to nuts; the ${food} recipe needs to be changed when they visit.`, kind: "family", tags: ["allergy", "food"], extra: { relation: rel } };
  },
  (r) => {
    const rel = r.pick(["my son", "my daughter"]), hobby = r.pick(HOBBIES), wd = r.pick(WEEKDAYS), t = time(r);
    return { content: `Pick up ${rel} from ${hobby} practice every ${wd} at ${t}; the kids' school closes early on Fridays.`, kind: "family", tags: ["kids", "schedule"], extra: { relation: rel, weekday: wd } };
  },
  (r) => {
    const a = amount(r, 20, 1800), exp = r.pick(EXPENSES), m = r.pick(MONTHS);
    return { content: `Paid ${a.text} for ${exp} in ${m}. Receipt saved in the finance folder.`, kind: "finance", tags: ["expense", lower(exp)], extra: { amount: a.value, currency: a.currency, paid_month: m } };
  },
  (r) => {
    const p = person(r), a = amount(r, 10, 300), rest = r.pick(RESTAURANTS);
    return { content: `${p} paid for dinner at ${rest}; I owe them ${a.text}.`, kind: "finance", tags: ["debt", "friends"], extra: { people: [p], amount: a.value, currency: a.currency } };
  },
  (r) => {
    const a = amount(r, 100, 5000), m = r.pick(MONTHS);
    return { content: `Savings goal: put ${a.text} aside every month until ${m} for the new car.`, kind: "finance", tags: ["savings"], extra: { amount: a.value, currency: a.currency } };
  },
  (r) => {
    const items = r.sample(SHOPPING, r.int(2, 5));
    return { content: `Shopping list: ${items.join(", ")}.`, kind: "shopping", tags: ["groceries"], extra: { items: items.length } };
  },
  (r) => {
    const item = r.pick(ITEMS), where = r.pick(STORAGE);
    return { content: `Put the ${item} in ${where}.`, kind: "home", tags: ["where-is", lower(item)], extra: { item } };
  },
  (r) => {
    const p = person(r), item = r.pick(ITEMS);
    return { content: `Lent my ${item} to ${p}; remind them to give it back before the trip.`, kind: "home", tags: ["lent", lower(item)], extra: { item, people: [p] } };
  },
  (r) => {
    const thing = r.pick(["boiler", "washing machine", "fridge", "roof", "bathroom tap", "router", "garage door"]), a = amount(r, 60, 900), p = person(r);
    return { content: `The ${thing} needs fixing; ${p} quoted ${a.text}, get a second quote first.`, kind: "home", tags: ["repair"], extra: { amount: a.value, currency: a.currency, people: [p] } };
  },
  (r) => {
    const food = r.pick(FOODS), n = r.int(20, 120);
    return { content: `Recipe note: ${food} takes ${n} minutes; use less salt and add the herbs at the end.`, kind: "recipe", tags: ["cooking", lower(food)], extra: { minutes: n } };
  },
  (r) => {
    const book = r.pick(BOOKS), p = person(r), n = r.int(1, 5);
    return { content: `Finished "${book}" — ${n}/5. ${p} recommended it; lend it to ${r.pick(RELATIONS)} next.`, kind: "reading", tags: ["books"], extra: { book, rating: n, people: [p] } };
  },
  (r) => {
    const proj = r.pick(PROJECTS), tech = r.pick(TECH), sys = r.pick(SYSTEMS);
    return { content: `Idea: rewrite the ${sys} of ${proj} in ${tech} and cache the hot paths; could halve the latency.`, kind: "idea", tags: ["idea", lower(tech)], extra: { project: proj, tech } };
  },
  (r) => {
    const hobby = r.pick(HOBBIES), city = r.pick(CITIES);
    return { content: `Idea for a weekend: a ${hobby} workshop in ${city}, maybe with friends from the old job.`, kind: "idea", tags: ["weekend", lower(hobby)], extra: { city, hobby } };
  },
  (r) => {
    const p = person(r), p2 = person(r), rest = r.pick(RESTAURANTS), wd = r.pick(WEEKDAYS);
    return { content: `Dinner with ${p} and ${p2} at ${rest} on ${wd}; ${p2} is vegetarian.`, kind: "social", tags: ["dinner", "friends"], extra: { people: [p, p2], restaurant: rest } };
  },
  (r) => {
    const p = person(r), city = r.pick(CITIES);
    return { content: `${p} moved to ${city} and started a new job there; send a message about visiting in spring.`, kind: "social", tags: ["friends", lower(city)], extra: { people: [p], city } };
  },
  (r) => {
    const km = r.int(1000, 180000), a = amount(r, 90, 1200);
    return { content: `Car service done at ${km} km, cost ${a.text}. Next oil change in 15,000 km; tyres are fine.`, kind: "car", tags: ["car", "service"], extra: { km, amount: a.value, currency: a.currency } };
  },
  (r) => {
    const hobby = r.pick(HOBBIES), p = person(r), wd = r.pick(WEEKDAYS);
    return { content: `Signed up for ${hobby} classes with ${p}, every ${wd} evening; first one is free.`, kind: "learning", tags: ["class", lower(hobby)], extra: { hobby, people: [p], weekday: wd } };
  },
  (r) => {
    const p = person(r), proj = r.pick(PROJECTS), topic = r.pick(TOPICS);
    return { content: `Email from ${p}: the ${proj} steering group will decide on ${topic} next week; prepare numbers.`, kind: "work", tags: ["email", lower(proj)], extra: { project: proj, people: [p] } };
  },
  (r) => {
    const proj = r.pick(PROJECTS), n = r.int(2, 40);
    return { content: `Sprint review for ${proj}: ${n} tickets closed, two carried over, demo went well with the client.`, kind: "meeting", tags: ["sprint", lower(proj)], extra: { project: proj, tickets: n } };
  },
  (r) => {
    const wifi = `${r.pick(["Home", "Cabin", "Office", "Studio"])}-${r.int(10, 99)}`;
    return { content: `Wi-Fi at ${r.pick(["grandma's", "the cabin", "the office annex", "the beach house"])} is "${wifi}"; the password is on the router sticker.`, kind: "home", tags: ["wifi"], extra: { network: wifi } };
  },
];

/** Query templates: questions a user asks about such notes (several phrasings per need). */
export const QUERY_TEMPLATES: Array<(r: Rng) => string> = [
  (r) => `what did ${r.pick(FIRST_NAMES)} say about ${r.pick(TOPICS)}`,
  (r) => `when is the ${r.pick(PROJECTS)} deadline`,
  (r) => `who is the ${r.pick(ROLES)} on ${r.pick(PROJECTS)}`,
  (r) => `where did I put my ${r.pick(ITEMS)}`,
  (r) => `where did I park at ${r.pick(PLACES)}`,
  (r) => `flight booking to ${r.pick(CITIES)}`,
  (r) => `good place to eat ${r.pick(FOODS)} in ${r.pick(CITIES)}`,
  (r) => `hotel in ${r.pick(CITIES)} for ${r.int(2, 14)} nights`,
  (r) => `when is my ${r.pick(APPOINTMENTS)} appointment`,
  (r) => `how often should I take ${r.pick(MEDS)}`,
  (r) => `${r.pick(RELATIONS)} birthday present idea`,
  (r) => `how much did I pay for ${r.pick(EXPENSES)} in ${r.pick(MONTHS)}`,
  (r) => `how much do I owe ${r.pick(FIRST_NAMES)}`,
  (r) => `which team uses ${r.pick(TECH)} for the ${r.pick(SYSTEMS)}`,
  (r) => `outage of the ${r.pick(SYSTEMS)} and who fixed it`,
  (r) => `budget approved for ${r.pick(PROJECTS)}`,
  (r) => `recipe for ${r.pick(FOODS)} cooking time`,
  (r) => `book ${r.pick(FIRST_NAMES)} recommended to me`,
  (r) => `${r.pick(HOBBIES)} classes on ${r.pick(WEEKDAYS)}`,
  (r) => `dinner plans with ${r.pick(FIRST_NAMES)} ${r.pick(["this week", "next week", "on the weekend", "in " + r.pick(MONTHS)])}`,
  (r) => `who did I lend my ${r.pick(ITEMS)} to`,
  (r) => `repair quote for the ${r.pick(["boiler", "washing machine", "fridge", "roof", "bathroom tap", "router", "garage door"])}`,
  (r) => `ideas to speed up the ${r.pick(SYSTEMS)} with ${r.pick(TECH)}`,
  (r) => `${r.pick(FIRST_NAMES)} moving to ${r.pick(CITIES)}`,
  (r) => `sprint review notes for ${r.pick(PROJECTS)}`,
  (r) => `what is on the shopping list besides ${r.pick(SHOPPING)}`,
  (r) => `allergies to remember when ${r.pick(RELATIONS)} visits`,
  (r) => `next car service and oil change`,
  (r) => `career plans ${r.pick(FIRST_NAMES)} mentioned in our one-on-one`,
  (r) => `email about ${r.pick(TOPICS)} from the ${r.pick(PROJECTS)} steering group`,
];

/** A short qualifier appended to make a query distinct without changing what it asks. */
export const QUERY_QUALIFIERS: Array<(r: Rng) => string> = [
  () => "",
  (r) => ` in ${r.pick(MONTHS)}`,
  (r) => ` last ${r.pick(WEEKDAYS)}`,
  (r) => ` ${r.pick(["please", "again", "quickly", "exactly", "again please"])}`,
  (r) => ` from my ${r.pick(SOURCES)}s`,
  (r) => ` ${r.pick(["this year", "last year", "recently", "a while ago"])}`,
  (r) => ` with ${r.pick(FIRST_NAMES)}`,
  (r) => ` around ${time(r)}`,
];
