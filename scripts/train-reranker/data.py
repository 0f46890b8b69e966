"""Deterministic relevance data for the memory reranker.

The world: small "collections" of memories about a handful of people, the kind of notes an
assistant keeps ("Maya works as a pharmacist", "Tom is Maya's manager"). A query asks for
one fact about one person; exactly one memory in the collection answers it.

What makes it worth a cross-encoder:
  * positives are phrased with different words than their queries
    ("What does Maya do for a living?" -> "Maya earns her keep as a pharmacist");
  * decoys share the query's words but not its meaning
    ("Maya is living with two roommates", "Maya said the work on the kitchen is done");
  * the same fact about another person is a negative (entity binding), and for
    asymmetric relations the reversed one is too ("Priya reports to Maya" is not an answer
    to "who is Maya's boss?").

Train and held-out evaluation use DISJOINT relations (topics), templates and names, so the
evaluation measures transfer to things the model never saw.

Everything is a pure function of (split, seed): the same call gives the same data.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

# --------------------------------------------------------------------------------------
# names (disjoint between splits)

TRAIN_NAMES = """Maya Jonas Priya Tom Elena Marcus Aisha Daniel Sofia Kenji Laura Omar Chloe
Victor Hannah Diego Grace Ivan Nadia Peter Lucia Samuel Ingrid Rafael Zoe Arjun Clara Felix
Amara Leo Mei Oscar Rosa Hugo Yara Theo Lena Caleb Noor Emil Tessa Malik Julia Anton Freya
Nikhil Paula Rhys Selin Bruno""".split()

EVAL_NAMES = """Beatriz Callum Dalia Edwin Farah Gustav Helga Idris Jasmin Kofi Lorenzo Mirela
Nils Olga Pavel Quinn Rania Stellan Tamsin Ulrich Vesna Wendell Ximena Yusuf Zelda Anouk
Bastian Cosima Dmitri Esme""".split()


@dataclass
class Relation:
    """One kind of fact about a person. Templates use {p} (the person), {v} (the value),
    {q} (another person of the collection)."""

    name: str
    values: list[str]
    docs: list[str]  # memories stating the fact
    queries: list[str]  # questions it answers, worded differently
    decoys: list[str]  # memories about {p} that share the queries' words, not their meaning
    person_valued: bool = False  # value is another person of the collection


def R(name, values, docs, queries, decoys, person_valued=False):
    return Relation(name, values, docs, queries, decoys, person_valued)


# --------------------------------------------------------------------------------------
# training relations

TRAIN_RELATIONS = [
    R("job",
      ["nurse", "software engineer", "electrician", "accountant", "pharmacist", "high school teacher",
       "architect", "paramedic", "chef", "lawyer", "dentist", "data analyst", "plumber", "journalist"],
      ["{p} works as a {v}.", "{p} has been a {v} for about six years now.", "{p} earns a salary as a {v}.",
       "{p} retrained and became a {v} in 2021.", "By profession {p} is a {v}."],
      ["What does {p} do for a living?", "what is {p}'s occupation", "{p} profession",
       "Which line of work is {p} in?", "what's {p}'s job"],
      ["{p} is living with two roommates this year.", "{p} said the work on the kitchen is finally done.",
       "{p} asked what we should do on Saturday.", "{p} thinks the job market is rough right now.",
       "{p} complained that the cost of living keeps going up."]),
    R("employer",
      ["Northwind Logistics", "Acme Robotics", "the city library", "Blue Harbor Bank", "Greenleaf Hospital",
       "a small design studio", "Orbital Games", "the regional newspaper", "Summit Insurance", "Pinewood School"],
      ["{p} is employed by {v}.", "{p} joined {v} last autumn.", "{p}'s employer is {v}.",
       "{p} has a contract with {v} until next year."],
      ["Which company does {p} work for?", "who employs {p}", "{p} employer", "where does {p} have a job"],
      ["{p} works from home on Fridays.", "{p} is looking for a new company car.",
       "{p} had a job interview practice session with me.", "{p} wants to work fewer hours in summer."]),
    R("city",
      ["Lisbon", "Denver", "Osaka", "Toronto", "Manchester", "Austin", "Krakow", "Melbourne", "Nairobi",
       "Porto", "Seattle", "Lyon", "Edinburgh", "Montreal"],
      ["{p} lives in {v}.", "{p} moved to {v} two years ago.", "{p}'s flat is in {v}.",
       "{p} rents an apartment downtown in {v}."],
      ["Where is {p} based?", "which city does {p} call home", "{p} place of residence",
       "where does {p} stay these days"],
      ["{p} wants to visit a new city every year.", "{p} is based on the third floor at the office.",
       "{p} left the spare key at home.", "{p} stayed late at the office these days to finish the audit."]),
    R("birthday",
      ["March 3", "July 19", "November 11", "January 27", "May 5", "September 14", "December 2", "April 30",
       "August 8", "February 21", "June 16", "October 9"],
      ["{p}'s birthday is on {v}.", "{p} was born on {v}.", "Remember: {p} turns a year older every {v}.",
       "{p} celebrates on {v} each year."],
      ["When was {p} born?", "what is {p}'s date of birth", "{p} bday", "which day should I send {p} a card"],
      ["{p} was born in a small coastal town.", "{p} is planning a birthday party for a colleague.",
       "{p} forgot the date of the tax deadline.", "{p} sent a card to the team after the launch."]),
    R("allergy",
      ["peanuts", "shellfish", "penicillin", "cats", "pollen", "latex", "bee stings", "sesame", "dust mites"],
      ["{p} is allergic to {v}.", "{p} has a severe {v} allergy.", "Keep {v} away from {p}; it causes a bad reaction.",
       "{p}'s doctor confirmed a {v} allergy."],
      ["What can {p} not be exposed to?", "does {p} have any allergies", "what triggers a reaction in {p}",
       "{p} medical sensitivities"],
      ["{p} cannot stand loud music at dinner.", "{p} got a lot of exposure to the sun on holiday.",
       "{p} had a strong reaction to the news about the merger.", "{p} is sensitive about comments on the budget."]),
    R("pet",
      ["a golden retriever named Biscuit", "two tabby cats", "a grey parrot", "a rabbit called Clover",
       "a bearded dragon", "three goldfish", "an old beagle named Rufus", "a hamster"],
      ["{p} has {v}.", "{p} adopted {v} last year.", "At home {p} looks after {v}.", "{p} shares the house with {v}."],
      ["What animals does {p} keep?", "does {p} own a pet", "{p} pets", "who is waiting for {p} at home"],
      ["{p} is nervous around big dogs in the park.", "{p} keeps the car keys in the top drawer.",
       "{p} owns a vintage record player.", "{p} watched a documentary about wild animals."]),
    R("food",
      ["Thai green curry", "sushi", "lasagna", "fish tacos", "ramen", "falafel wraps", "mushroom risotto",
       "dumplings", "paella", "butter chicken"],
      ["{p} loves {v}.", "{p}'s favourite dish is {v}.", "Whenever we eat out, {p} orders {v}.",
       "{p} could have {v} every single day."],
      ["What does {p} like to eat?", "which meal would make {p} happy", "{p} favorite food",
       "what should I cook when {p} comes over"],
      ["{p} skips lunch on busy days.", "{p} does not like to cook after work.",
       "{p} is happy with the new project plan.", "{p} came over to help with the move."]),
    R("manager",
      [],
      ["{p} reports to {v}.", "{v} is {p}'s manager.", "{p}'s boss is {v}.", "{v} supervises {p} at work."],
      ["Who is {p}'s supervisor?", "who does {p} answer to at work", "{p} line manager", "who is above {p} in the org chart"],
      ["{p} is the manager of {q}.", "{q} reports to {p}.", "{p} supervises the interns.", "{p} answered the support emails."],
      person_valued=True),
    R("partner",
      [],
      ["{p} is married to {v}.", "{p}'s partner is {v}.", "{p} and {v} have been together for ten years.",
       "{p} lives with {p2}spouse, {v}."],
      ["Who is {p}'s spouse?", "who is {p}'s significant other", "is {p} in a relationship", "{p} husband or wife"],
      ["{p} went to {q}'s wedding last month.", "{p} is single-handedly running the project.",
       "{p} has a good working relationship with the vendor.", "{p} is the best man at a friend's wedding."],
      person_valued=True),
    R("phone",
      ["555-0134", "555-0198", "555-0172", "555-0111", "555-0145", "555-0160", "555-0187", "555-0123"],
      ["{p}'s mobile is {v}.", "You can reach {p} at {v}.", "{p} changed numbers; the new one is {v}."],
      ["How can I call {p}?", "what is {p}'s phone number", "{p} contact number", "how do I get hold of {p} by phone"],
      ["{p} called about the invoice yesterday.", "{p} lost a phone charger at the hotel.",
       "{p} asked me to call the landlord.", "{p} got hold of the concert tickets."]),
    R("car",
      ["a blue Subaru Outback", "an old Honda Civic", "a white Tesla Model 3", "a red Mini Cooper", "a Ford pickup truck",
       "a silver Toyota Prius", "a Vespa scooter"],
      ["{p} drives {v}.", "{p}'s car is {v}.", "{p} bought {v} second hand.", "{p} parks {v} behind the building."],
      ["What vehicle does {p} have?", "which car is {p}'s", "{p} ride", "what does {p} drive"],
      ["{p} drove us to the airport on Monday.", "{p} hates sitting in traffic.", "{p} gave me a ride to the station.",
       "{p} has a drive full of snow every winter."]),
    R("hobby",
      ["rock climbing", "knitting", "chess", "salsa dancing", "birdwatching", "pottery", "trail running",
       "woodworking", "photography", "sailing"],
      ["{p} spends most weekends on {v}.", "{p} is really into {v}.", "{p} took up {v} during the pandemic.",
       "Ask {p} about {v}; it is their passion."],
      ["What does {p} do in their spare time?", "{p} hobbies", "how does {p} like to unwind",
       "what is {p} passionate about outside work"],
      ["{p} has no spare time this month because of the move.", "{p} needs a spare tyre for the trip.",
       "{p} likes to finish work early on Fridays.", "{p} unwound the cable from the old router."]),
    R("language",
      ["Portuguese", "Japanese", "German", "Arabic", "Swahili", "Korean", "Polish", "Hindi", "Italian"],
      ["{p} speaks fluent {v}.", "{p} grew up speaking {v} at home.", "{p} is a native {v} speaker.",
       "{p} is taking evening classes in {v}."],
      ["Which languages does {p} know?", "what is {p}'s mother tongue", "can {p} talk in another language",
       "{p} languages"],
      ["{p} gave a talk about programming languages.", "{p} knows the way to the new office.",
       "{p} used strong language in the meeting.", "{p} talked to the landlord about the leak."]),
    R("drink",
      ["oat milk latte", "black coffee", "green tea", "double espresso", "chai with honey", "flat white",
       "peppermint tea", "iced americano"],
      ["{p} always orders a {v}.", "{p} lives on {v}.", "{p} starts every morning with a {v}."],
      ["How does {p} take their coffee?", "what should I get {p} from the café", "{p} usual drink",
       "what does {p} like to drink in the morning"],
      ["{p} met a client at the coffee shop.", "{p} spilled water on the laptop.",
       "{p} likes to take the stairs in the morning.", "{p} got the café receipts for the expense report."]),
    R("study",
      ["mechanical engineering", "art history", "economics", "marine biology", "computer science",
       "philosophy", "nursing", "architecture"],
      ["{p} studied {v} at university.", "{p} has a degree in {v}.", "{p} majored in {v}.",
       "{p} wrote a thesis in {v}."],
      ["What was {p}'s field of study?", "what did {p} major in at college", "{p} degree subject",
       "which subject did {p} learn at uni"],
      ["{p} is studying for a driving test.", "{p} visited the college campus for an open day.",
       "{p} sent me the field report.", "{p} learned the hard way to back up files."]),
    R("team",
      ["the Lakers", "Arsenal", "the Yankees", "Benfica", "the Maple Leafs", "Boca Juniors", "the Seahawks", "Celtic"],
      ["{p} is a big fan of {v}.", "{p} never misses a game of {v}.", "{p} has supported {v} since childhood."],
      ["Which team does {p} root for?", "{p} favourite sports club", "who does {p} cheer for"],
      ["{p} joined the company team offsite.", "{p} cheered up after the good news.",
       "{p} is a fan of working early.", "{p} plays on the office quiz team."]),
    R("siblings",
      ["two older brothers", "a twin sister", "no brothers or sisters", "a younger brother", "three sisters",
       "an older half-brother"],
      ["{p} has {v}.", "{p} grew up with {v}.", "{p} was raised alongside {v}."],
      ["Does {p} have brothers or sisters?", "{p} siblings", "how many siblings does {p} have"],
      ["{p} has a younger colleague who started in May.", "{p} thinks the two designs are like sisters.",
       "{p} has many meetings this week.", "{p} grew tomatoes on the balcony."]),
    R("appointment",
      ["Tuesday at 10am", "next Friday at 3pm", "the 14th at noon", "Monday morning", "Thursday at 4:30",
       "the first of the month"],
      ["{p}'s dentist appointment is {v}.", "{p} sees the dentist {v}.", "{p} booked a dental check-up for {v}."],
      ["When is {p} going to the dentist?", "{p} next dental visit", "what time is {p}'s teeth cleaning"],
      ["{p} recommended a good dentist to me.", "{p} is going to the gym after work.",
       "{p} cleaned the kitchen before the guests came.", "{p} booked a table for dinner on Friday."]),
    R("shoe_size",
      ["38", "41", "43", "44", "45", "39", "42"],
      ["{p} wears size {v} shoes.", "{p}'s shoe size is {v}.", "{p} needs a {v} in sneakers."],
      ["What size footwear does {p} need?", "{p} shoe size", "which size boots should I buy for {p}"],
      ["{p} bought new running shoes.", "{p} needs a bigger desk.", "{p} left muddy boots in the hall.",
       "{p} asked what size the meeting room is."]),
    R("trip",
      ["Iceland", "Vietnam", "Morocco", "Patagonia", "the Greek islands", "Japan", "Norway", "Costa Rica"],
      ["{p} is going to {v} in August.", "{p} booked flights to {v} for the summer holidays.",
       "{p}'s next vacation is in {v}."],
      ["Where is {p} travelling this summer?", "{p} holiday plans", "what is {p}'s next vacation destination"],
      ["{p} came back from a business trip last week.", "{p} is planning the office summer party.",
       "{p} travelled by train to the conference.", "{p} said the holiday rota is unfair."]),
    R("music",
      ["jazz", "heavy metal", "classical piano music", "K-pop", "country music", "hip hop", "bossa nova", "techno"],
      ["{p} listens to {v} all day.", "{p}'s playlist is full of {v}.", "{p} is obsessed with {v}."],
      ["What music does {p} enjoy?", "{p} favourite genre", "what kind of songs does {p} like"],
      ["{p} enjoys quiet evenings.", "{p} listened to the podcast about the election.",
       "{p} likes the kind of meeting that ends early.", "{p} put on the wrong song at the party."]),
]

# --------------------------------------------------------------------------------------
# held-out relations: other topics, other templates, never used in training

EVAL_RELATIONS = [
    R("instrument",
      ["cello", "trumpet", "ukulele", "drums", "violin", "bass guitar", "harp", "saxophone"],
      ["{p} plays the {v}.", "{p} has had {v} lessons since age nine.", "{p} performs on {v} in a community band."],
      ["Which instrument can {p} play?", "is {p} musical", "what does {p} play in the orchestra"],
      ["{p} played tennis on Sunday.", "{p} bought concert tickets for the whole family.",
       "{p} can speak in front of large crowds.", "{p} is reading a book about the orchestra's history."]),
    R("fear",
      ["heights", "spiders", "flying", "deep water", "thunderstorms", "needles", "clowns"],
      ["{p} is terrified of {v}.", "{p} has a phobia of {v}.", "Nothing frightens {p} like {v}."],
      ["What scares {p}?", "{p} phobias", "what is {p} afraid of"],
      ["{p} is not afraid to speak up in meetings.", "{p} scared off the pigeons on the balcony.",
       "{p} watched a horror film.", "{p} is worried about the deadline."]),
    R("medication",
      ["metformin", "levothyroxine", "vitamin D supplements", "an inhaler", "blood pressure pills", "antihistamines"],
      ["{p} takes {v} every morning.", "{p}'s prescription is {v}.", "{p} must not forget {v}."],
      ["What pills is {p} on?", "{p} prescriptions", "which medicine does {p} need daily"],
      ["{p} picked up a parcel from the pharmacy for a neighbour.", "{p} is on the night shift this week.",
       "{p} needs a daily reminder to water the plants.", "{p} takes the early train."]),
    R("author",
      ["Ursula K. Le Guin", "Haruki Murakami", "Toni Morrison", "Terry Pratchett", "Agatha Christie", "Chimamanda Adichie"],
      ["{p}'s favourite author is {v}.", "{p} has read everything by {v}.", "{p} collects first editions of {v}."],
      ["Who does {p} like to read?", "{p} favourite writer", "which novelist should I gift {p}"],
      ["{p} booked a table for Friday.", "{p} is writing the quarterly report.", "{p} read the contract twice.",
       "{p} got a gift card for the bookstore's café."]),
    R("age",
      ["29", "34", "41", "52", "23", "67", "38"],
      ["{p} is {v} years old.", "{p} turned {v} this spring.", "{p} is {v}."],
      ["How old is {p}?", "{p} age", "what age is {p}"],
      ["{p} has an old laptop.", "{p} wants to retire early.", "{p} is older than the building's lift."]),
    R("locker",
      ["4471", "1902", "3385", "7750", "6024", "2218"],
      ["The combination for {p}'s locker is {v}.", "{p}'s gym locker opens with {v}."],
      ["What is the code to {p}'s locker?", "{p} locker combination", "how do I open {p}'s locker"],
      ["{p} locked the door after the meeting.", "{p} changed the code review process.",
       "{p} opened a new bank account.", "{p} keeps a combination of tea and honey on the desk."]),
    R("mentor",
      [],
      ["{v} is mentoring {p}.", "{p} is mentored by {v}.", "{p} meets {v} monthly for career advice."],
      ["Who is {p}'s mentor?", "who coaches {p} on career questions", "{p} mentor"],
      ["{p} mentors {q}.", "{q} gets career advice from {p}.", "{p} coaches the junior football team."],
      person_valued=True),
    R("color",
      ["teal", "mustard yellow", "navy blue", "burgundy", "lavender", "forest green"],
      ["{p}'s favourite colour is {v}.", "{p} wears {v} whenever possible.", "{p} painted the bedroom {v}."],
      ["What colour does {p} like best?", "{p} favorite color", "which shade would {p} pick"],
      ["{p} printed the slides in colour.", "{p} likes the best seats at the cinema.",
       "{p} picked up the dry cleaning."]),
    R("bedtime",
      ["10pm", "midnight", "9:30pm", "11pm", "1am"],
      ["{p} usually goes to bed around {v}.", "{p} is asleep by {v} on weeknights."],
      ["What time does {p} sleep?", "when does {p} turn in for the night", "{p} bedtime"],
      ["{p} made the bed in the guest room.", "{p} fell asleep during the film.", "{p} had a long night at the bank."]),
    R("savings",
      ["a house deposit", "a new bike", "a trip to Peru", "a used car", "a wedding", "a laptop"],
      ["{p} is saving up for {v}.", "{p} puts money aside every month for {v}."],
      ["What is {p}'s financial goal?", "what is {p} putting money toward", "{p} saving for"],
      ["{p} saved the file to the shared drive.", "{p} put the boxes aside in the garage.",
       "{p} has a goal of running a marathon."]),
]

# generic memories with no person: background noise in a collection
FILLER = [
    "Team standup moved to 9:30 starting next week.", "The wifi password for the guest network is on the fridge.",
    "Recycling is collected every second Thursday.", "The quarterly report is due at the end of the month.",
    "The printer on the second floor is out of toner.", "Book club meets in the library on Wednesdays.",
    "The office will be closed on the public holiday.", "Remember to renew the domain before it expires.",
    "The heating engineer comes on Monday between 8 and 12.", "Grocery list: eggs, spinach, lemons, rice.",
    "The shared calendar has the new sprint dates.", "Water the plants on the balcony twice a week.",
]

# --------------------------------------------------------------------------------------
# collections


@dataclass
class Doc:
    id: str
    text: str
    person: str | None
    relation: str | None
    kind: str  # "fact" | "decoy" | "filler"


@dataclass
class Query:
    id: str
    text: str
    person: str
    relation: str
    positive: str  # doc id


@dataclass
class Collection:
    id: str
    docs: list[Doc] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)


def _fill(t: str, p: str, v: str = "", q: str = "") -> str:
    return t.replace("{p2}", "their ").replace("{p}", p).replace("{v}", v).replace("{q}", q)


def make_collection(cid: str, rng: random.Random, names: list[str], relations: list[Relation],
                    n_people: int = 6, decoys_per_fact: float = 0.6) -> Collection:
    """One user's memories: `n_people` people, one fact per (person, relation), decoys, filler."""
    people = rng.sample(names, n_people)
    col = Collection(cid)
    n = 0

    def add(text, person, relation, kind):
        nonlocal n
        d = Doc(f"{cid}-d{n}", text, person, relation, kind)
        n += 1
        col.docs.append(d)
        return d

    for p in people:
        others = [o for o in people if o != p]
        for rel in relations:
            v = rng.choice(others) if rel.person_valued else rng.choice(rel.values)
            fact = add(_fill(rng.choice(rel.docs), p, v), p, rel.name, "fact")
            qt = rng.choice(rel.queries)
            col.queries.append(Query(f"{cid}-q{len(col.queries)}", _fill(qt, p), p, rel.name, fact.id))
            if rng.random() < decoys_per_fact:
                add(_fill(rng.choice(rel.decoys), p, "", rng.choice(others)), p, rel.name, "decoy")
    for f in rng.sample(FILLER, 4):
        add(f, None, None, "filler")
    rng.shuffle(col.docs)
    return col


def build_split(split: str, seed: int, n_collections: int) -> list[Collection]:
    """split "train" or "eval"; names, relations and templates differ between them."""
    if split == "train":
        names, relations = TRAIN_NAMES, TRAIN_RELATIONS
    elif split == "eval":
        names, relations = EVAL_NAMES, EVAL_RELATIONS
    else:
        raise ValueError(split)
    rng = random.Random(f"{split}:{seed}")
    return [make_collection(f"{split}{i}", rng, names, relations) for i in range(n_collections)]


# --------------------------------------------------------------------------------------
# BM25 (a stand-in for Postgres FTS: lower-case words, english stop words, crude stemming)

STOP = set("""a an the and or of to in on at for with by from is are was were be been being do does did
what which who whom whose when where why how that this these those it its their them they he she his her
i me my we our you your can could should would will shall may might must not no any every each some about
as into than then there here up down out over under again further once s""".split())
WORD = re.compile(r"[a-z0-9]+")


def terms(text: str) -> list[str]:
    out = []
    for w in WORD.findall(text.lower()):
        if w in STOP:
            continue
        for suf in ("ing", "ed", "es", "s"):
            if len(w) > len(suf) + 2 and w.endswith(suf):
                w = w[: -len(suf)]
                break
        out.append(w)
    return out


class BM25:
    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75):
        self.docs = [terms(t) for t in texts]
        self.k1, self.b = k1, b
        self.avg = sum(len(d) for d in self.docs) / max(1, len(self.docs))
        df: dict[str, int] = {}
        for d in self.docs:
            for w in set(d):
                df[w] = df.get(w, 0) + 1
        n = len(self.docs)
        self.idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}

    def scores(self, query: str) -> list[float]:
        q = terms(query)
        out = []
        for d in self.docs:
            s = 0.0
            for w in q:
                tf = d.count(w)
                if tf:
                    s += self.idf.get(w, 0.0) * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * len(d) / self.avg))
            out.append(s)
        return out


# --------------------------------------------------------------------------------------
# training groups


def training_groups(collections: list[Collection], seed: int, negatives: int = 7) -> list[tuple[str, list[str]]]:
    """(query, [positive, negative...]) groups with hard negatives: the person's decoys for
    that relation, the same relation for other people (entity swaps), the BM25 top misses,
    and other facts about the same person."""
    rng = random.Random(f"groups:{seed}")
    groups = []
    for col in collections:
        by_id = {d.id: d for d in col.docs}
        bm = BM25([d.text for d in col.docs])
        for q in col.queries:
            pos = by_id[q.positive]
            bms = bm.scores(q.text)
            pools = [
                [d for d in col.docs if d.kind == "decoy" and d.person == q.person and d.relation == q.relation],
                [d for d in col.docs if d.kind == "decoy" and d.person == q.person],
                [d for d in col.docs if d.kind == "fact" and d.relation == q.relation and d.person != q.person],
                [col.docs[i] for i in sorted(range(len(col.docs)), key=lambda i: -bms[i])[:8]],
                [d for d in col.docs if d.person == q.person and d.relation != q.relation],
                col.docs,
            ]
            chosen: list[Doc] = []
            quota = [1, 1, 2, 2, 1, negatives]
            for pool, k in zip(pools, quota):
                cands = [d for d in pool if d.id != pos.id and d not in chosen]
                rng.shuffle(cands)
                chosen.extend(cands[: min(k, negatives - len(chosen))])
                if len(chosen) >= negatives:
                    break
            groups.append((q.text, [pos.text] + [d.text for d in chosen]))
    rng.shuffle(groups)
    return groups


if __name__ == "__main__":  # a look at the data
    import sys

    split = sys.argv[1] if len(sys.argv) > 1 else "train"
    col = build_split(split, 0, 1)[0]
    for q in col.queries[:6]:
        print("Q:", q.text, "->", next(d.text for d in col.docs if d.id == q.positive))
    for d in col.docs[:12]:
        print(f"  [{d.kind}] {d.text}")
    g = training_groups(build_split("train", 0, 1), 0)[0]
    print("group:", g[0])
    for t in g[1]:
        print("   ", t)
