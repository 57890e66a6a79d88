"""Demo profiles: the kinds of structure (FINESS categories with their weights, capacities
and answer tendencies), names of places and people, FINESS numbers with a valid check digit,
and the demo's constants."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.permissions import Role
from app.structures.finess import luhn_check_digit

DEMO_PASSWORD = "demo-palier-2026"
DEFAULT_STRUCTURES = 320
DEFAULT_SEED = 2026
# Above this many structures the dataset spreads over every region (benchmarks).
NATIONAL_THRESHOLD = 1000

# Share of each palier among the structures' latest submitted assessments.
TIER_SHARES: dict[int, float] = {0: 0.12, 1: 0.30, 2: 0.33, 3: 0.15, 4: 0.10}

# Demo-size regions and their share of the structures: Auvergne-Rhône-Alpes, Île-de-France,
# Occitanie, plus Guyane (overseas FINESS numbers 9703…) and Corse (2A/2B).
DEMO_REGIONS: dict[str, int] = {"84": 150, "11": 60, "76": 90, "03": 8, "94": 12}

# (email, role, region, display name); the director's structures are the first organisme
# gestionnaire, in the Ain (region 84).
DEMO_ACCOUNTS: tuple[tuple[str, Role, str | None, str], ...] = (
    ("directeur@demo.palier.fr", Role.director, None, "Claire Dumont (démo)"),
    ("ars@demo.palier.fr", Role.ars, "84", "Référent ARS Auvergne-Rhône-Alpes (démo)"),
    ("comite@demo.palier.fr", Role.committee, None, "Comité national de sélection (démo)"),
    ("admin@demo.palier.fr", Role.admin, None, "Administration Palier (démo)"),
)
DIRECTOR_EMAIL = "direction.{ej}@demo.palier.fr"
QUESTIONNAIRE_ID = "esms-maturite-numerique"
BATCH = 1000
JSON_BATCH = 250  # rows holding a Result snapshot (~15 kB of JSON each)
PARIS = ZoneInfo("Europe/Paris")
CAMPAIGN_START = date(2024, 1, 1)
IMPORTED_AT = datetime(2023, 12, 4, 9, 0, tzinfo=UTC)


class DatabaseNotEmpty(Exception):
    """The demo only loads into a database without structures or accounts."""

# ---- reference tables ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kind:
    """How a FINESS category looks in the demo."""

    code: str
    weight: float  # share of the national mix
    family: str  # "pa" (personnes âgées, domicile), "ph" (handicap), "social"
    capacity: tuple[int, int, int]  # low, high, mode
    modalites: tuple[str, ...]  # drawn uniformly: repeat a value to weight it (newest values)
    medicalised: float  # probability
    staff_per_place: float  # ETP per place (or per person followed)
    names: tuple[str, ...]  # patterns: {lieu}, {saint}, {de_city}
    propensity: float = 0.0  # bias toward a higher palier


KINDS: tuple[Kind, ...] = (
    Kind("500", 26, "pa", (30, 150, 80), ("hebergement",) * 9 + ("mixte",), 1.0, 0.62,
         ("EHPAD {lieu}", "EHPAD {saint}", "EHPAD {de_city}", "EHPAD Résidence {lieu}"), 0.25),
    Kind("202", 6, "pa", (20, 90, 45), ("hebergement",), 0.1, 0.15,
         ("Résidence autonomie {lieu}", "Résidence autonomie {de_city}"), -0.2),
    Kind("207", 1, "pa", (8, 30, 15), ("accueil_jour",), 0.3, 0.4,
         ("Accueil de jour {lieu}", "Centre de jour {de_city}")),
    Kind("354", 8, "pa", (20, 120, 45), ("domicile",), 1.0, 0.3,
         ("SSIAD {de_city}", "SSIAD du Pays {de_city}", "SSIAD du canton {de_city}"), 0.1),
    Kind("209", 2, "pa", (30, 200, 80), ("domicile",), 1.0, 0.4,
         ("SAAS {de_city}", "Service autonomie aide et soins {de_city}"), 0.1),
    Kind("460", 9, "pa", (20, 400, 90), ("domicile",), 0.0, 0.35,
         ("SAA {de_city}", "Service autonomie aide {de_city}",
          "Aide et services à domicile {de_city}"), -0.35),
    Kind("183", 5, "ph", (20, 90, 50),
         ("accueil_jour",) * 5 + ("hebergement_accueil_jour",) * 4 + ("mixte",),
         0.7, 0.85, ("IME {lieu}", "IME {de_city}", "IME {saint}")),
    Kind("182", 5, "ph", (15, 80, 35), ("domicile", "mixte"), 0.5, 0.3,
         ("SESSAD {lieu}", "SESSAD {de_city}")),
    Kind("186", 1.5, "ph", (20, 70, 40), ("accueil_jour", "hebergement"), 0.3, 0.9,
         ("ITEP {lieu}", "DITEP {de_city}")),
    Kind("189", 1, "ph", (100, 600, 300), ("accueil_jour",), 0.6, 0.08, ("CMPP {de_city}",)),
    Kind("190", 1, "ph", (50, 300, 150), ("accueil_jour",), 1.0, 0.1, ("CAMSP {de_city}",)),
    Kind("192", 0.5, "ph", (20, 80, 45), ("hebergement", "accueil_jour"), 1.0, 1.0,
         ("IEM {lieu}",)),
    Kind("255", 3.5, "ph", (20, 70, 45), ("hebergement",), 1.0, 1.4,
         ("MAS {lieu}", "MAS {de_city}"), 0.1),
    Kind("437", 3.5, "ph", (15, 60, 35), ("hebergement",), 1.0, 1.0,
         ("FAM {lieu}", "Foyer d'accueil médicalisé {lieu}")),
    Kind("448", 1, "ph", (20, 60, 40), ("hebergement",), 1.0, 1.0, ("EAM {lieu}",)),
    Kind("449", 1, "ph", (20, 60, 35), ("hebergement",), 0.0, 0.6, ("EANM {lieu}",)),
    Kind("382", 5, "ph", (15, 60, 30), ("hebergement",) * 6 + ("accueil_jour",), 0.1, 0.7,
         ("Foyer de vie {lieu}", "Foyer de vie {de_city}")),
    Kind("252", 3, "ph", (15, 60, 30), ("hebergement",), 0.0, 0.35,
         ("Foyer d'hébergement {lieu}", "Foyer {lieu}")),
    Kind("246", 5, "ph", (30, 150, 70), ("accueil_jour",), 0.0, 0.2,
         ("ESAT {lieu}", "ESAT Les Ateliers {de_city}"), -0.15),
    Kind("446", 2.5, "ph", (20, 120, 50), ("domicile",), 0.0, 0.1, ("SAVS {de_city}",)),
    Kind("445", 1, "ph", (15, 50, 30), ("domicile",), 1.0, 0.3, ("SAMSAH {de_city}",)),
    Kind("197", 1.2, "social", (150, 900, 400), ("accueil_jour",), 0.5, 0.03,
         ("CSAPA {de_city}", "CSAPA {lieu}")),
    Kind("214", 1.5, "social", (20, 120, 50), ("hebergement",) * 2 + ("mixte",), 0.0, 0.3,
         ("CHRS {lieu}", "CHRS {de_city}"), -0.3),
    Kind("177", 1.5, "social", (15, 80, 35), ("hebergement",), 0.0, 0.9,
         ("MECS {lieu}", "Maison d'enfants {lieu}"), -0.1),
)
KIND_BY_CODE = {k.code: k for k in KINDS}
# Organismes gestionnaires: which families they manage, and how often.
FAMILY_WEIGHTS = {"pa": 55, "ph": 38, "social": 7}

LIEUX = (
    "Les Tilleuls", "La Roseraie", "Les Glycines", "Le Clos Fleuri", "Les Cèdres",
    "Les Jardins d'Automne", "Le Val Fleuri", "Les Magnolias", "La Chênaie", "Les Hortensias",
    "Le Parc", "Les Lilas", "Les Sorbiers", "Les Marronniers", "La Source", "Les Sources",
    "Le Bois Joli", "Les Coquelicots", "La Colline", "Les Peupliers", "L'Orée du Bois",
    "Les Mimosas", "Le Belvédère", "Les Vergers", "La Fontaine", "Les Acacias", "Le Moulin",
    "Les Églantines", "Les Bruyères", "Les Genêts", "Les Platanes", "Le Hameau",
    "La Clairière", "Les Oliviers", "Les Érables", "Le Pré Vert", "Les Aubépines",
    "Les Charmilles", "Le Verger", "Les Primevères", "La Roche", "Les Sapins", "Le Lac",
    "Les Trois Rivières", "La Passerelle", "L'Arc-en-Ciel", "Le Chêne", "Les Mésanges",
)
SAINTS = (
    "Saint-Joseph", "Sainte-Anne", "Saint-François", "Notre-Dame", "Sainte-Marthe",
    "Saint-Vincent-de-Paul", "Sainte-Thérèse", "Saint-Jean", "Saint-Martin", "Sainte-Claire",
)
FIRST_NAMES = (
    "Claire", "Nathalie", "Isabelle", "Sophie", "Céline", "Sandrine", "Valérie", "Aurélie",
    "Stéphanie", "Émilie", "Julie", "Catherine", "Laurent", "Philippe", "Nicolas", "Olivier",
    "Christophe", "Thierry", "David", "Frédéric", "Julien", "Karim", "Mehdi", "Samia",
    "Fatima", "Thomas", "Camille", "Pierre", "Hélène", "Marc",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Benali", "Nguyen", "Rousseau", "Blanc", "Guerin",
)
DUI_SOFTWARE = (
    "Logiciel de l'éditeur retenu par la grappe",
    "DUI mutualisé du GCSMS départemental",
    "Solution en ligne (SaaS) référencée Ségur, éditeur national",
    "Module dossier usager du logiciel de gestion de l'association",
    "Logiciel de soins de l'éditeur historique, montée de version prévue",
    "DUI choisi avec le GRADeS, déploiement en cours",
)
COMMENTS = (
    "Projet DUI porté par la grappe départementale.",
    "Déménagement prévu l'an prochain : câblage et wifi à revoir.",
    "Référent numérique recruté récemment, plan d'action en préparation.",
    "Accompagnement du GRADeS en cours pour l'INS et la MSSanté.",
    "Coupures internet fréquentes en zone rurale, connexion de secours demandée.",
    "Renouvellement des postes prévu au budget de l'année prochaine.",
    "Formation des équipes de nuit au DUI à organiser.",
)

# Cities per department (prefecture first) and population in hundreds of thousands
# (approximate INSEE figures; they only weight where structures are drawn).
CITIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "01": (6.6, ("Bourg-en-Bresse", "Oyonnax", "Ambérieu-en-Bugey", "Belley", "Gex",
                 "Valserhône")),
    "02": (5.3, ("Laon", "Saint-Quentin", "Soissons", "Château-Thierry")),
    "03": (3.4, ("Moulins", "Montluçon", "Vichy")),
    "04": (1.7, ("Digne-les-Bains", "Manosque", "Sisteron")),
    "05": (1.4, ("Gap", "Briançon", "Embrun")),
    "06": (11.0, ("Nice", "Cannes", "Antibes", "Grasse", "Menton")),
    "07": (3.3, ("Privas", "Annonay", "Aubenas", "Tournon-sur-Rhône")),
    "08": (2.7, ("Charleville-Mézières", "Sedan", "Rethel")),
    "09": (1.5, ("Foix", "Pamiers", "Saint-Girons")),
    "10": (3.1, ("Troyes", "Romilly-sur-Seine", "Bar-sur-Aube")),
    "11": (3.7, ("Carcassonne", "Narbonne", "Castelnaudary", "Limoux")),
    "12": (2.8, ("Rodez", "Millau", "Villefranche-de-Rouergue")),
    "13": (20.4, ("Marseille", "Aix-en-Provence", "Arles", "Martigues", "Aubagne")),
    "14": (7.0, ("Caen", "Lisieux", "Bayeux", "Vire Normandie")),
    "15": (1.4, ("Aurillac", "Saint-Flour", "Mauriac")),
    "16": (3.5, ("Angoulême", "Cognac", "Confolens")),
    "17": (6.6, ("La Rochelle", "Saintes", "Rochefort", "Royan")),
    "18": (3.0, ("Bourges", "Vierzon", "Saint-Amand-Montrond")),
    "19": (2.4, ("Tulle", "Brive-la-Gaillarde", "Ussel")),
    "2A": (1.6, ("Ajaccio", "Porto-Vecchio", "Sartène")),
    "2B": (1.8, ("Bastia", "Corte", "Calvi")),
    "21": (5.3, ("Dijon", "Beaune", "Montbard")),
    "22": (6.0, ("Saint-Brieuc", "Lannion", "Dinan", "Guingamp")),
    "23": (1.2, ("Guéret", "Aubusson", "La Souterraine")),
    "24": (4.1, ("Périgueux", "Bergerac", "Sarlat-la-Canéda")),
    "25": (5.4, ("Besançon", "Montbéliard", "Pontarlier")),
    "26": (5.2, ("Valence", "Montélimar", "Romans-sur-Isère", "Die")),
    "27": (6.0, ("Évreux", "Vernon", "Louviers", "Bernay")),
    "28": (4.3, ("Chartres", "Dreux", "Châteaudun")),
    "29": (9.2, ("Quimper", "Brest", "Morlaix", "Concarneau")),
    "30": (7.5, ("Nîmes", "Alès", "Bagnols-sur-Cèze", "Le Vigan")),
    "31": (14.3, ("Toulouse", "Muret", "Saint-Gaudens", "Colomiers")),
    "32": (1.9, ("Auch", "Condom", "Mirande")),
    "33": (16.5, ("Bordeaux", "Mérignac", "Libourne", "Arcachon", "Langon")),
    "34": (11.8, ("Montpellier", "Béziers", "Sète", "Lodève")),
    "35": (10.9, ("Rennes", "Saint-Malo", "Fougères", "Vitré")),
    "36": (2.2, ("Châteauroux", "Issoudun", "Le Blanc")),
    "37": (6.1, ("Tours", "Amboise", "Chinon", "Loches")),
    "38": (12.7, ("Grenoble", "Vienne", "Bourgoin-Jallieu", "Voiron")),
    "39": (2.6, ("Lons-le-Saunier", "Dole", "Saint-Claude")),
    "40": (4.1, ("Mont-de-Marsan", "Dax", "Biscarrosse")),
    "41": (3.3, ("Blois", "Vendôme", "Romorantin-Lanthenay")),
    "42": (7.6, ("Saint-Étienne", "Roanne", "Montbrison")),
    "43": (2.3, ("Le Puy-en-Velay", "Yssingeaux", "Brioude")),
    "44": (14.5, ("Nantes", "Saint-Nazaire", "Châteaubriant", "Ancenis-Saint-Géréon")),
    "45": (6.8, ("Orléans", "Montargis", "Gien", "Pithiviers")),
    "46": (1.7, ("Cahors", "Figeac", "Gourdon")),
    "47": (3.3, ("Agen", "Villeneuve-sur-Lot", "Marmande")),
    "48": (0.8, ("Mende", "Marvejols", "Florac")),
    "49": (8.2, ("Angers", "Cholet", "Saumur")),
    "50": (4.9, ("Saint-Lô", "Cherbourg-en-Cotentin", "Avranches", "Coutances")),
    "51": (5.7, ("Châlons-en-Champagne", "Reims", "Épernay", "Vitry-le-François")),
    "52": (1.7, ("Chaumont", "Saint-Dizier", "Langres")),
    "53": (3.1, ("Laval", "Mayenne", "Château-Gontier-sur-Mayenne")),
    "54": (7.3, ("Nancy", "Lunéville", "Toul", "Briey")),
    "55": (1.8, ("Bar-le-Duc", "Verdun", "Commercy")),
    "56": (7.6, ("Vannes", "Lorient", "Pontivy", "Ploërmel")),
    "57": (10.5, ("Metz", "Thionville", "Forbach", "Sarreguemines")),
    "58": (2.0, ("Nevers", "Cosne-Cours-sur-Loire", "Clamecy")),
    "59": (26.0, ("Lille", "Roubaix", "Dunkerque", "Valenciennes", "Douai", "Cambrai")),
    "60": (8.3, ("Beauvais", "Compiègne", "Creil", "Senlis")),
    "61": (2.8, ("Alençon", "Flers", "Argentan")),
    "62": (14.6, ("Arras", "Calais", "Boulogne-sur-Mer", "Lens", "Béthune")),
    "63": (6.6, ("Clermont-Ferrand", "Riom", "Thiers", "Issoire")),
    "64": (6.9, ("Pau", "Bayonne", "Oloron-Sainte-Marie", "Orthez")),
    "65": (2.3, ("Tarbes", "Lourdes", "Bagnères-de-Bigorre")),
    "66": (4.8, ("Perpignan", "Céret", "Prades")),
    "67": (11.4, ("Strasbourg", "Haguenau", "Sélestat", "Saverne")),
    "68": (7.7, ("Colmar", "Mulhouse", "Saint-Louis", "Guebwiller")),
    "69": (18.8, ("Lyon", "Villeurbanne", "Villefranche-sur-Saône", "Vénissieux", "Tarare")),
    "70": (2.3, ("Vesoul", "Lure", "Gray")),
    "71": (5.5, ("Mâcon", "Chalon-sur-Saône", "Autun", "Le Creusot")),
    "72": (5.7, ("Le Mans", "La Flèche", "Sablé-sur-Sarthe")),
    "73": (4.4, ("Chambéry", "Aix-les-Bains", "Albertville")),
    "74": (8.3, ("Annecy", "Thonon-les-Bains", "Annemasse", "Sallanches")),
    "75": (21.0, ("Paris",)),
    "76": (12.5, ("Rouen", "Le Havre", "Dieppe", "Fécamp")),
    "77": (14.2, ("Melun", "Meaux", "Fontainebleau", "Chelles", "Provins")),
    "78": (14.5, ("Versailles", "Saint-Germain-en-Laye", "Mantes-la-Jolie", "Rambouillet")),
    "79": (3.7, ("Niort", "Bressuire", "Parthenay")),
    "80": (5.7, ("Amiens", "Abbeville", "Péronne")),
    "81": (3.9, ("Albi", "Castres", "Gaillac")),
    "82": (2.6, ("Montauban", "Castelsarrasin", "Moissac")),
    "83": (10.8, ("Toulon", "Fréjus", "Draguignan", "Hyères", "Brignoles")),
    "84": (5.6, ("Avignon", "Carpentras", "Orange", "Cavaillon")),
    "85": (6.9, ("La Roche-sur-Yon", "Les Sables-d'Olonne", "Fontenay-le-Comte", "Challans")),
    "86": (4.4, ("Poitiers", "Châtellerault", "Loudun")),
    "87": (3.7, ("Limoges", "Saint-Junien", "Bellac")),
    "88": (3.6, ("Épinal", "Saint-Dié-des-Vosges", "Remiremont")),
    "89": (3.3, ("Auxerre", "Sens", "Avallon")),
    "90": (1.4, ("Belfort", "Delle", "Valdoie")),
    "91": (13.1, ("Évry-Courcouronnes", "Massy", "Corbeil-Essonnes", "Étampes")),
    "92": (16.2, ("Nanterre", "Boulogne-Billancourt", "Colombes", "Antony")),
    "93": (16.6, ("Bobigny", "Saint-Denis", "Montreuil", "Aulnay-sous-Bois")),
    "94": (14.1, ("Créteil", "Vitry-sur-Seine", "Champigny-sur-Marne", "Ivry-sur-Seine")),
    "95": (12.5, ("Cergy", "Argenteuil", "Sarcelles", "Pontoise")),
    "971": (3.8, ("Basse-Terre", "Les Abymes", "Pointe-à-Pitre", "Le Gosier")),
    "972": (3.5, ("Fort-de-France", "Le Lamentin", "Le Robert", "Schœlcher")),
    "973": (2.9, ("Cayenne", "Kourou", "Saint-Laurent-du-Maroni", "Matoury")),
    "974": (8.7, ("Saint-Denis", "Saint-Pierre", "Saint-Paul", "Le Tampon")),
    "976": (3.0, ("Mamoudzou", "Koungou", "Dzaoudzi")),
}


def de(city: str) -> str:
    """French "de" + a place name, with elision and contraction (d'Oyonnax, du Puy)."""
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if city.startswith(article):
            return contracted + city[len(article):]
    if city[0].lower() in "aeiouyhéèêâîôœ":
        return "d'" + city
    return "de " + city


# ---- FINESS ----------------------------------------------------------------------------


def finess_number(department: str, rng: random.Random, used: set[str]) -> str:
    """A new FINESS number registered in `department`, with a valid Luhn check digit.

    `01`…`95`, `2A`/`2B` prefix the number; overseas numbers start with `970` and the
    department's last digit (`9703…` for Guyane). Adds the number to `used`.
    """
    prefix = "970" + department[2] if len(department) == 3 else department
    width = 8 - len(prefix)
    while True:
        # Most real numbers have a 0 right after the department.
        lead = "0" if rng.random() < 0.6 else str(rng.randint(1, 9))
        body = prefix + lead + "".join(str(rng.randint(0, 9)) for _ in range(width - 1))
        number = body + luhn_check_digit(body)
        if number not in used:
            used.add(number)
            return number
