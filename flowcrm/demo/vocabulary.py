"""Word lists and weighted distributions behind the demo and benchmark data.

Kept as plain data so the demo (``flowcrm demo``) and the benchmark generator (``bench/``) draw
from the same realistic mix: names from many countries, industries, company sizes skewed to
small firms, lead sources with inbound channels ahead of events, and so on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import accumulate


class Weighted[T]:
    """A fixed weighted choice, drawn from a caller's ``random.Random`` (so it is seeded)."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.values: tuple[T, ...] = tuple(value for value, _ in pairs)
        self._cumulative = list(accumulate(weight for _, weight in pairs))

    def pick(self, rng: random.Random) -> T:
        return rng.choices(self.values, cum_weights=self._cumulative)[0]


FIRST_NAMES: tuple[str, ...] = (
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Henry", "Evelyn", "Alexander", "Charlotte",
    "Daniel", "Hannah", "Jonas", "Lea", "Felix", "Marie", "Paul", "Sophie", "Maximilian", "Lena",
    "Louis", "Chloé", "Hugo", "Camille", "Jules", "Inès", "Léo", "Manon", "Gabriel", "Lucía",
    "Martina", "Pablo", "Sofía", "Javier", "Carmen", "Alejandro", "Giulia", "Lorenzo",
    "Francesca", "Matteo", "Chiara", "Sven", "Astrid", "Lars", "Ingrid", "Erik", "Freja", "Anna",
    "Jan", "Katarzyna", "Piotr", "Agnieszka", "Tomasz", "Aarav", "Priya", "Rohan", "Ananya",
    "Vikram", "Sanjana", "Wei", "Mei", "Jun", "Yuki", "Haruto", "Sakura", "Kenji", "Aiko",
    "João", "Ana", "Pedro", "Beatriz", "Rafael", "Larissa", "Oliver", "Grace", "Jack", "Ruby",
    "Thomas", "Zoe", "Samuel", "Nora", "David", "Sarah", "Michael", "Laura", "Fatima", "Omar",
    "Amir", "Leila", "Kwame", "Ama", "Chinedu", "Ngozi", "Diego", "Valentina", "Mohammed",
    "Aisha", "Noor", "Yusuf", "Elif", "Emre", "Daan", "Sanne", "Bram", "Fleur",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
    "Schulz", "Koch", "Richter", "Klein", "Wolf", "Dubois", "Durand", "Lefebvre", "Moreau",
    "Laurent", "Simon", "Michel", "Leroy", "Roux", "Fournier", "Fernández", "López", "González",
    "Sánchez", "Pérez", "Romero", "Navarro", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi",
    "Romano", "Colombo", "Ricci", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson",
    "Larsen", "Hansen", "Nielsen", "Jensen", "Kowalski", "Nowak", "Wiśniewski", "Wójcik",
    "Patel", "Sharma", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Wang", "Li", "Zhang", "Chen",
    "Liu", "Yang", "Huang", "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito",
    "Yamamoto", "Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "O'Brien", "Murphy",
    "Kelly", "Walsh", "de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "Mensah",
    "Okafor", "Adeyemi", "Haddad", "Khan", "Ali", "Hassan", "Y\u0131lmaz", "Kaya", "Demir", "Novak",
    "Horvat", "Popescu", "Ionescu", "Nagy", "Kovács", "Virtanen", "Korhonen", "Papadopoulos",
)  # fmt: skip

COMPANY_WORDS: tuple[str, ...] = (
    "Northwind", "Bluebird", "Granite", "Harbor", "Summit", "Evergreen", "Silverline", "Redwood",
    "Brightpath", "Ironclad", "Lakeside", "Pinecrest", "Starlight", "Clearwater", "Oakridge",
    "Highland", "Sunrise", "Blackstone", "Copperfield", "Riverbend", "Maple", "Falcon", "Vertex",
    "Quantum", "Nimbus", "Atlas", "Orion", "Helix", "Polaris", "Cobalt", "Juniper", "Aurora",
    "Meridian", "Beacon", "Keystone", "Pioneer", "Sterling", "Cascade", "Horizon", "Zenith",
    "Nordic", "Alpine", "Coastal", "Urban", "Prairie", "Crescent", "Emerald", "Sapphire",
    "Velvet", "Lumen", "Tidal", "Ember", "Solstice", "Kestrel", "Willow", "Basalt", "Cedar",
    "Fjord", "Mosaic", "Paragon", "Quarry", "Radiant", "Sequoia", "Tandem", "Umbra", "Vantage",
)  # fmt: skip

COMPANY_NOUNS: tuple[str, ...] = (
    "Logistics", "Labs", "Systems", "Foods", "Health", "Analytics", "Energy", "Robotics",
    "Software", "Partners", "Consulting", "Media", "Motors", "Pharma", "Retail", "Studios",
    "Networks", "Capital", "Dynamics", "Solutions", "Works", "Outfitters", "Farms", "Designs",
    "Security", "Cloud", "Bio", "Textiles", "Aviation", "Marine", "Learning", "Travel",
)  # fmt: skip

COMPANY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "US": ("Inc.", "LLC", "Corp.", ""),
    "CA": ("Inc.", "Ltd.", ""),
    "GB": ("Ltd", "plc", ""),
    "IE": ("Ltd", ""),
    "DE": ("GmbH", "AG", "GmbH & Co. KG"),
    "AT": ("GmbH", "AG"),
    "CH": ("AG", "GmbH", "SA"),
    "FR": ("SAS", "SA", "SARL"),
    "ES": ("S.L.", "S.A."),
    "IT": ("S.r.l.", "S.p.A."),
    "NL": ("B.V.", "N.V."),
    "SE": ("AB",),
    "DK": ("ApS", "A/S"),
    "PL": ("Sp. z o.o.", "S.A."),
    "BR": ("Ltda.", "S.A."),
    "IN": ("Pvt. Ltd.", "Ltd."),
    "JP": ("K.K.", "Co., Ltd."),
    "AU": ("Pty Ltd", ""),
}

TLDS: dict[str, str] = {
    "US": "com", "CA": "ca", "GB": "co.uk", "IE": "ie", "DE": "de", "AT": "at", "CH": "ch",
    "FR": "fr", "ES": "es", "IT": "it", "NL": "nl", "SE": "se", "DK": "dk", "PL": "pl",
    "BR": "com.br", "IN": "in", "JP": "jp", "AU": "com.au",
}  # fmt: skip

# Share of companies (and so of contacts) per country: a CRM used from Europe with a strong
# North-American customer base.
COUNTRIES: Weighted[str] = Weighted(
    [
        ("US", 26), ("DE", 13), ("GB", 11), ("FR", 8), ("NL", 5), ("ES", 5), ("IT", 4),
        ("CA", 4), ("SE", 3), ("CH", 3), ("AT", 2), ("PL", 3), ("DK", 2), ("IE", 2),
        ("BR", 3), ("IN", 3), ("JP", 2), ("AU", 1),
    ]
)  # fmt: skip

INDUSTRIES: Weighted[str] = Weighted(
    [
        ("Software", 18), ("Manufacturing", 12), ("Retail", 9), ("Financial services", 8),
        ("Healthcare", 8), ("Logistics", 6), ("Education", 5), ("Professional services", 9),
        ("Construction", 4), ("Energy", 3), ("Media", 4), ("Hospitality", 4),
        ("Telecommunications", 3), ("Automotive", 3), ("Real estate", 2), ("Non-profit", 2),
    ]
)  # fmt: skip

# Company size bands (the model's CompanySize values): most companies are small.
COMPANY_SIZES: Weighted[str] = Weighted(
    [("1-10", 30), ("11-50", 30), ("51-200", 20), ("201-1000", 12), ("1001-5000", 6),
     ("5001+", 2)]
)  # fmt: skip

LEAD_SOURCES: Weighted[str] = Weighted(
    [
        ("website", 28), ("organic_search", 16), ("paid_search", 12), ("referral", 10),
        ("social", 9), ("email_campaign", 8), ("event", 6), ("webinar", 5), ("partner", 4),
        ("cold_outreach", 2),
    ]
)  # fmt: skip

LIFECYCLE_STAGES: Weighted[str] = Weighted(
    [
        ("subscriber", 18), ("lead", 34), ("mql", 14), ("sql", 9), ("opportunity", 7),
        ("customer", 14), ("evangelist", 2), ("other", 2),
    ]
)  # fmt: skip

LEAD_STATUSES: Weighted[str] = Weighted(
    [("new", 35), ("open", 25), ("in_progress", 18), ("qualified", 12), ("unqualified", 10)]
)

JOB_TITLES: tuple[str, ...] = (
    "CEO", "CTO", "CFO", "COO", "Head of Sales", "Sales Manager", "Account Executive",
    "Marketing Manager", "Head of Marketing", "Operations Manager", "Procurement Lead",
    "IT Director", "Product Manager", "Engineer", "Office Manager", "HR Manager",
    "Customer Success Manager", "Finance Manager", "Founder", "Consultant", "Analyst",
    "Project Manager", "Purchasing Manager", "VP Engineering", "Business Development",
)  # fmt: skip

REGIONS: dict[str, str] = {
    "US": "North America", "CA": "North America", "BR": "Latin America",
    "GB": "EMEA", "IE": "EMEA", "DE": "EMEA", "AT": "EMEA", "CH": "EMEA", "FR": "EMEA",
    "ES": "EMEA", "IT": "EMEA", "NL": "EMEA", "SE": "EMEA", "DK": "EMEA", "PL": "EMEA",
    "IN": "APAC", "JP": "APAC", "AU": "APAC",
}  # fmt: skip

LOST_REASONS: Weighted[str] = Weighted(
    [
        ("Price too high", 30), ("Chose a competitor", 25), ("No budget", 15),
        ("No decision", 15), ("Missing feature", 10), ("Bad timing", 5),
    ]
)  # fmt: skip

DEAL_PRODUCTS: tuple[str, ...] = (
    "Platform licence", "Onboarding package", "Support plan", "Team seats", "Enterprise plan",
    "Analytics add-on", "Integration project", "Training", "Pilot", "Annual subscription",
)  # fmt: skip

ACTIVITY_SUBJECTS: dict[str, tuple[str, ...]] = {
    "call": ("Discovery call", "Follow-up call", "Pricing discussion", "Check-in call",
             "Left a voicemail", "Demo scheduling"),
    "email": ("Sent proposal", "Intro e-mail", "Follow-up on demo", "Contract questions",
              "Case study shared", "Re: pricing"),
    "meeting": ("Product demo", "On-site workshop", "Quarterly business review",
                "Kick-off meeting", "Negotiation meeting"),
    "note": ("Budget confirmed for Q3", "Decision maker is the CFO", "Evaluating two vendors",
             "Wants SSO and audit log", "Renewal risk: low usage"),
}  # fmt: skip

CALL_OUTCOMES: tuple[str, ...] = ("connected", "no answer", "left voicemail", "busy")

TASK_TITLES: tuple[str, ...] = (
    "Send proposal", "Follow up after demo", "Prepare contract", "Call back", "Book a demo",
    "Send case study", "Check in on trial", "Confirm budget", "Introduce to solutions engineer",
    "Schedule quarterly review", "Update forecast", "Send renewal quote",
)  # fmt: skip
