"""Synthetic demo dataset: structures, accounts and assessments scored by the real engine.

`load_demo(session, ...)` fills an EMPTY database (it refuses otherwise) with:

- structures (FINESS ET) across several regions (or, above `NATIONAL_THRESHOLD`, all 18
  regions weighted by population), grouped under organismes gestionnaires (FINESS EJ with
  1 to 15 ET), with a category mix dominated by EHPAD, plausible names, cities and
  capacities; every FINESS number is well-formed with a valid Luhn check digit;
- one director account per organisme gestionnaire, plus the four demo accounts
  (`DEMO_ACCOUNTS`), all with the same password (hashed once);
- assessments: most structures have a submitted one (some 2 or 3 successive submissions
  showing progress), some a draft in progress, some nothing.

Answers are built per target palier (`AnswerBuilder`): a random answer set biased by a
maturity level, then every requirement of the target palier and of the lower ones is made
true and some requirements of the palier above are made false, by reading the tier
conditions of the questionnaire (no question id is hard-coded there). The answers pass
`validate_answers`, are scored once with `score`, and a set whose placed palier is not the
target is regenerated. Submitted rows hold exactly what `assessments.service.submit`
stores (Result snapshot, tier, global and per-domain scores).

Inserts go through SQLAlchemy Core in batches, so 40,000 structures load in minutes.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from app.accounts.models import DirectorStructure, User
from app.accounts.passwords import hash_password
from app.assessments.models import Assessment, AssessmentDomainScore, AssessmentStatus
from app.audit import AuditEvent
from app.dashboard.read_model import refresh_structures
from app.db import begin_write, utcnow
from app.permissions import Role
from app.reference import departments, finess_categories, regions
from app.structures.finess import luhn_check_digit
from app.structures.models import Structure
from scoring import Questionnaire, Result, applicable, score, validate_answers
from scoring.generate import generate_answers

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_STRUCTURES",
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "AnswerBuilder",
    "DatabaseNotEmpty",
    "DemoReport",
    "database_is_empty",
    "finess_number",
    "load_demo",
    "profile_answers",
    "tier_quotas",
]

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
    modalites: tuple[str, ...]  # drawn uniformly: repeat a value to weight it
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
    Kind("183", 5, "ph", (20, 90, 50), ("accueil_jour",) * 5 + ("hebergement",) * 4 + ("mixte",),
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


# ---- profiles and answers ----------------------------------------------------------------


def profile_answers(kind: Kind, capacity: int, multi_site: bool, target: int,
                    rng: random.Random) -> dict[str, Any]:
    """The questionnaire's profile section for a structure of this category and size."""
    category = finess_categories()[kind.code]
    grouped = rng.random() < (0.75 if target >= 2 else 0.35)
    return {
        "public_accueilli": category.sector,
        "modalite": rng.choice(kind.modalites),
        "medicalise": "oui" if rng.random() < kind.medicalised else "non",
        "capacite": capacity,
        "effectif_etp": round(capacity * kind.staff_per_place * rng.uniform(0.8, 1.2), 1),
        "gestionnaire_multi": "oui" if multi_site else "non",
        "finess_propre": "oui" if rng.random() < 0.97 else "non",
        "regroupement": "oui" if grouped else rng.choice(["en_cours", "non"]),
    }


class CannotBuild(Exception):
    """No answer set with the target palier was found (should not happen)."""


_MAX_ATTEMPTS = 40
_MATURITY = {0: 0.15, 1: 0.3, 2: 0.45, 3: 0.62, 4: 0.78}


class AnswerBuilder:
    """Answer sets that place a structure on a given palier of a questionnaire.

    Reads the tier requirements of the questionnaire and knows how to make a condition
    true (`satisfy`) or false (`negate`) by changing answers to non-profile questions.
    """

    def __init__(self, q: Questionnaire, profile_questions: Iterable[str] | None = None) -> None:
        """`profile_questions` are never changed (default: the first section's questions)."""
        self.q = q
        self.questions = q.questions
        self.tiers = sorted(q.tiers, key=lambda t: t.level)
        self.top = self.tiers[-1].level
        if profile_questions is None:
            profile_questions = [qu.id for qu in q.sections[0].questions]
        self.fixed = frozenset(profile_questions)
        self.order = list(q.questions)
        # Option values from fewest to most points.
        self.ranked = {
            qid: [o.value for o in sorted(qu.options or [], key=lambda o: sum(o.points.values()))]
            for qid, qu in q.questions.items()
        }

    # -- evaluation (the format's condition semantics) --

    def shown(self, qid: str, ans: dict[str, Any]) -> bool:
        cond = self.questions[qid].show_if
        return cond is None or self.holds(cond, ans)

    def holds(self, cond: dict[str, Any], ans: dict[str, Any]) -> bool:
        if "all" in cond:
            return all(self.holds(c, ans) for c in cond["all"])
        if "any" in cond:
            return any(self.holds(c, ans) for c in cond["any"])
        if "not" in cond:
            return not self.holds(cond["not"], ans)
        if "question" not in cond:
            raise CannotBuild(f"unsupported condition {cond!r}")
        qid = cond["question"]
        value = ans.get(qid) if self.shown(qid, ans) else None
        answered = value is not None and value != [] and value != ""
        if "answered" in cond:
            return answered == bool(cond["answered"])
        if not answered:
            return False
        op, x = _operator(cond)
        if op == "equals":
            return bool(value == x)
        if op == "not_equals":
            return bool(value != x)
        if op == "in":
            return value in x
        if op == "not_in":
            return value not in x
        if op == "includes":
            return x in value
        if op == "includes_all":
            return all(v in value for v in x)
        if op == "includes_any":
            return any(v in value for v in x)
        if op == "count_at_least":
            return len(value) >= x
        if op == "at_least":
            return bool(value >= x)
        if op == "at_most":
            return bool(value <= x)
        raise CannotBuild(f"unsupported operator {op!r}")

    # -- making conditions true or false --

    def satisfy(self, cond: dict[str, Any], ans: dict[str, Any], rng: random.Random) -> bool:
        if self.holds(cond, ans):
            return True
        if "all" in cond:
            for c in cond["all"]:
                if not self.satisfy(c, ans, rng):
                    return False
            return self.holds(cond, ans)
        if "any" in cond:
            branches = list(cond["any"])
            rng.shuffle(branches)
            for c in branches:
                trial = dict(ans)
                if self.satisfy(c, trial, rng) and self.holds(cond, trial):
                    ans.clear()
                    ans.update(trial)
                    return True
            return False
        if "not" in cond:
            return self.negate(cond["not"], ans, rng)
        qid = cond["question"]
        if qid in self.fixed:
            return False
        show_if = self.questions[qid].show_if
        if show_if is not None and not self.satisfy(show_if, ans, rng):
            return False
        self._set_true(qid, cond, ans, rng)
        return self.holds(cond, ans)

    def negate(self, cond: dict[str, Any], ans: dict[str, Any], rng: random.Random) -> bool:
        if not self.holds(cond, ans):
            return True
        if "all" in cond:
            children = list(cond["all"])
            rng.shuffle(children)
            for c in children:
                trial = dict(ans)
                if self.negate(c, trial, rng) and not self.holds(cond, trial):
                    ans.clear()
                    ans.update(trial)
                    return True
            return False
        if "any" in cond:
            for c in cond["any"]:
                if not self.negate(c, ans, rng):
                    return False
            return not self.holds(cond, ans)
        if "not" in cond:
            return self.satisfy(cond["not"], ans, rng)
        qid = cond["question"]
        if qid in self.fixed:
            return False
        self._set_false(qid, cond, ans, rng)
        return not self.holds(cond, ans)

    def _set_true(self, qid: str, cond: dict[str, Any], ans: dict[str, Any],
                  rng: random.Random) -> None:
        qu = self.questions[qid]
        if "answered" in cond:
            if cond["answered"]:
                ans[qid] = self._any_value(qid, rng)
            else:
                ans.pop(qid, None)
            return
        op, x = _operator(cond)
        if qu.type == "multiple_choice":
            chosen = self._plain(qid, ans.get(qid))
            if op == "includes":
                chosen.add(x)
            elif op == "includes_all":
                chosen.update(x)
            elif op == "includes_any":
                chosen.add(rng.choice(list(x)))
            elif op == "count_at_least":
                pool = [v for v in self._plain_values(qid) if v not in chosen]
                rng.shuffle(pool)
                chosen.update(pool[: max(0, x - len(chosen))])
            ans[qid] = self._ordered(qid, chosen)
        elif qu.type == "number":
            lo, hi = _bounds(qu.min, qu.max)
            if op == "equals":
                ans[qid] = x
            elif op == "at_least":
                ans[qid] = _number(rng.uniform(x, min(hi, x + 40)), x, hi)
            elif op == "at_most":
                ans[qid] = _number(rng.uniform(max(lo, x - 40), x), lo, x)
            elif op == "not_equals":
                ans[qid] = x + 1 if x + 1 <= hi else x - 1
        else:  # single_choice, text
            if op == "equals":
                ans[qid] = x
            elif op == "in":
                ans[qid] = rng.choice(list(x))
            elif op in ("not_equals", "not_in"):
                bad = {x} if op == "not_equals" else set(x)
                ans[qid] = rng.choice([v for v in self.ranked[qid] if v not in bad])

    def _set_false(self, qid: str, cond: dict[str, Any], ans: dict[str, Any],
                   rng: random.Random) -> None:
        qu = self.questions[qid]
        if "answered" in cond:
            if cond["answered"]:
                ans.pop(qid, None)
            else:
                ans[qid] = self._any_value(qid, rng)
            return
        op, x = _operator(cond)
        if qu.type == "multiple_choice":
            chosen = self._plain(qid, ans.get(qid))
            if op == "includes":
                chosen.discard(x)
            elif op == "includes_all":
                present = [v for v in x if v in chosen]
                for v in rng.sample(present, rng.randint(1, len(present))):
                    chosen.discard(v)
            elif op == "includes_any":
                chosen.difference_update(x)
            elif op == "count_at_least":
                chosen = set(rng.sample(sorted(chosen), max(0, x - 1)))
            ans[qid] = self._ordered(qid, chosen) or self._nothing(qid, x)
        elif qu.type == "number":
            lo, hi = _bounds(qu.min, qu.max)
            if op == "at_least" and x - 1 >= lo:
                ans[qid] = _number(rng.uniform(max(lo, x - 35), x - 1), lo, x - 1)
            elif op == "at_most" and x + 1 <= hi:
                ans[qid] = _number(rng.uniform(x + 1, min(hi, x + 35)), x + 1, hi)
            elif op == "equals":
                ans[qid] = x + 1 if x + 1 <= hi else x - 1
            elif op == "not_equals":
                ans[qid] = x
        else:
            ranked = self.ranked[qid]
            if op in ("equals", "in"):
                bad = {x} if op == "equals" else set(x)
                others = [v for v in ranked if v not in bad]
                if not others:
                    return
                best_bad = max(ranked.index(v) for v in bad if v in ranked)
                below = [v for v in others if ranked.index(v) < best_bad]
                # Usually "almost there": the best option that does not meet the condition.
                if below and rng.random() < 0.65:
                    ans[qid] = below[-1]
                else:
                    ans[qid] = rng.choice(others)
            elif op == "not_equals":
                ans[qid] = x
            elif op == "not_in":
                ans[qid] = rng.choice(list(x))

    def _plain_values(self, qid: str) -> list[str]:
        return [o.value for o in self.questions[qid].options or [] if not o.exclusive]

    def _plain(self, qid: str, value: Any) -> set[str]:
        plain = set(self._plain_values(qid))
        return {v for v in value or [] if v in plain}

    def _ordered(self, qid: str, chosen: set[str]) -> list[str]:
        return [v for v in self._plain_values(qid) if v in chosen]

    def _nothing(self, qid: str, avoid: Any) -> list[str]:
        """An answer selecting nothing useful: the exclusive option, or another option."""
        options = self.questions[qid].options or []
        exclusive = [o.value for o in options if o.exclusive]
        if exclusive:
            return exclusive[:1]
        bad = set(avoid) if isinstance(avoid, list) else {avoid}
        rest = [o.value for o in options if o.value not in bad]
        return rest[:1]

    def _any_value(self, qid: str, rng: random.Random) -> Any:
        qu = self.questions[qid]
        if qu.type == "single_choice":
            return rng.choice(self.ranked[qid])
        if qu.type == "multiple_choice":
            return [rng.choice(self._plain_values(qid))]
        if qu.type == "number":
            lo, hi = _bounds(qu.min, qu.max)
            return _number(rng.uniform(lo, min(hi, lo + 100)), lo, hi)
        return rng.choice(COMMENTS)

    # -- whole answer sets --

    def _base(self, profile: dict[str, Any], maturity: float,
              rng: random.Random) -> dict[str, Any]:
        ans = generate_answers(self.q, rng, maturity=maturity, skip=0.0, fixed=profile)
        for qid, qu in self.questions.items():
            if qid in profile:
                continue
            value = ans.get(qid)
            if qu.type == "number" and value is not None:
                lo, hi = _bounds(qu.min, qu.max)
                ans[qid] = _number(value, lo, hi)
            elif qu.type == "multiple_choice" and not value:
                ans[qid] = self._nothing(qid, None)
            elif qu.type == "text":
                ans.pop(qid, None)
        return ans

    def _realism(self, ans: dict[str, Any], profile: dict[str, Any],
                 rng: random.Random) -> None:
        """Plausible values for informative and optional questions (not used by tiers)."""
        for qid, qu in self.questions.items():
            if qid in profile or qu.required:
                continue
            if qu.type == "text":
                if "logiciel" in qid:
                    if rng.random() < 0.85:
                        ans[qid] = rng.choice(DUI_SOFTWARE)
                elif rng.random() < 0.3:
                    ans[qid] = rng.choice(COMMENTS)
            elif qu.type == "number" and qid in ans:
                if qu.max is not None and qu.max > 1000:  # counts (messages a month...)
                    capacity = int(profile.get("capacite") or 50)
                    lo, hi = _bounds(qu.min, qu.max)
                    ans[qid] = _number(capacity * rng.uniform(0.0, 2.5), lo, hi)
                if rng.random() < 0.2:
                    ans.pop(qid)

    def _requirements_met(self, ans: dict[str, Any], upto: int) -> bool:
        return all(self.holds(r.condition, ans)
                   for t in self.tiers if t.level <= upto for r in t.requires)

    def candidate(self, profile: dict[str, Any], target: int, rng: random.Random,
                  maturity: float | None = None) -> dict[str, Any] | None:
        """One answer set aimed at `target` (not yet checked with the engine), or None."""
        level = _MATURITY.get(target, 0.5) if maturity is None else maturity
        level = min(0.95, max(0.05, rng.gauss(level, 0.07)))
        ans = self._base(profile, level, rng)
        self._realism(ans, profile, rng)
        for _ in range(4):  # satisfying one requirement can break another: repeat
            for t in self.tiers:
                if t.level > target:
                    break
                for r in t.requires:
                    self.satisfy(r.condition, ans, rng)
            if self._requirements_met(ans, target):
                break
        else:
            return None
        above = [t for t in self.tiers if t.level == target + 1]
        if above:
            reqs = list(above[0].requires)
            rng.shuffle(reqs)
            failing = sum(1 for r in reqs if not self.holds(r.condition, ans))
            wanted = rng.choice((1, 1, 1, 2, 2, 3))
            for r in reqs:
                if failing >= wanted:
                    break
                trial = dict(ans)
                if self.negate(r.condition, trial, rng) and self._requirements_met(trial, target):
                    ans = trial
                    failing += 1
            if failing == 0:
                return None
        shown = applicable(self.q, ans)
        return {qid: ans[qid] for qid in self.order if qid in ans and shown.get(qid)}

    def build(self, profile: dict[str, Any], target: int, rng: random.Random,
              maturity: float | None = None) -> tuple[dict[str, Any], Result]:
        """A complete, valid answer set placed exactly on palier `target`, and its Result."""
        for _ in range(_MAX_ATTEMPTS):
            ans = self.candidate(profile, target, rng, maturity)
            if ans is None:
                continue
            errors = validate_answers(self.q, ans)
            if errors:  # a bug in this module, not bad luck
                raise CannotBuild(f"invalid generated answers: {errors}")
            result = score(self.q, ans)
            if result.complete and result.tier_level == target:
                return ans, result
        raise CannotBuild(f"no answer set found for palier {target} and profile {profile}")

    def partial(self, answers: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """A draft in progress: the first sections answered, the rest not yet."""
        keys = [qid for qid in self.order if qid in answers]
        cut = max(len(self.fixed) + 2, int(len(keys) * rng.uniform(0.25, 0.9)))
        return {qid: answers[qid] for qid in keys[:cut]}


def _operator(cond: dict[str, Any]) -> tuple[str, Any]:
    for key, value in cond.items():
        if key != "question":
            return key, value
    raise CannotBuild(f"condition without operator: {cond!r}")


def _bounds(lo: float | None, hi: float | None) -> tuple[float, float]:
    low = 0.0 if lo is None else float(lo)
    return low, float(hi) if hi is not None else low + 100


def _number(value: float, lo: float, hi: float) -> int | float:
    """An integer within [lo, hi] when there is one (percentages are whole numbers)."""
    low, high = math.ceil(lo), math.floor(hi)
    if low <= high:
        return int(min(high, max(low, round(value))))
    return min(hi, max(lo, value))


_K = TypeVar("_K", int, str)


def tier_quotas(n: int, shares: dict[int, float] = TIER_SHARES) -> dict[int, int]:
    """Split n structures over the paliers by `shares` (largest remainder, sums to n)."""
    return _split(n, shares)


def _split(n: int, shares: dict[_K, float]) -> dict[_K, int]:
    total = sum(shares.values())
    exact = {k: n * v / total for k, v in shares.items()}
    out = {k: int(x) for k, x in exact.items()}
    rest = n - sum(out.values())
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], k))[:rest]:
        out[k] += 1
    return out


# ---- the dataset -------------------------------------------------------------------------


@dataclass
class _Site:
    finess: str
    finess_ej: str
    name: str
    kind: Kind
    department: str
    region: str
    city: str
    capacity: int
    group: int  # index of the organisme gestionnaire
    group_size: int
    submissions: int = 0  # how many submitted assessments
    draft: bool = False
    targets: list[int] = field(default_factory=list)  # palier of each submission, oldest first
    forced: bool = False
    id: int | None = None


@dataclass
class _Group:
    ej: str
    department: str
    director_email: str
    director_name: str
    user_id: int | None = None


@dataclass
class DemoReport:
    structures: int
    regions: dict[str, int]  # region code -> structures
    groups: int
    submitted: int  # submitted assessments
    with_submission: int  # structures with at least one
    with_history: int  # structures with 2 or more
    drafts: int
    tiers: dict[int, int]  # palier of each structure's latest submission -> structures
    accounts: list[tuple[str, str, str]]  # email, role, scope (French)
    director_accounts: int  # other director accounts (one per organisme gestionnaire)
    password: str
    seconds: float


def database_is_empty(session: Session) -> bool:
    """True when the database has no structure and no account."""
    for model in (Structure, User):
        if session.exec(select(func.count()).select_from(model)).one():
            return False
    return True


def _department_weights(codes: Iterable[str]) -> tuple[list[str], list[float]]:
    codes = [c for c in codes if c in CITIES]
    return codes, [CITIES[c][0] for c in codes]


def _region_counts(n: int, national: bool) -> dict[str, int]:
    if national:
        weights: dict[str, float] = Counter()
        for code, dep in departments().items():
            weights[dep.region_code] += CITIES.get(code, (1.0, ()))[0]
    else:
        weights = {k: float(v) for k, v in DEMO_REGIONS.items()}
    return _split(n, dict(weights))


def _group_size(rng: random.Random) -> int:
    if rng.random() < 0.38:
        return 1
    sizes = list(range(2, 16))
    return rng.choices(sizes, weights=[1 / (s - 1) ** 0.9 for s in sizes])[0]


def _pick_kind(rng: random.Random, family: str | None) -> Kind:
    pool = [k for k in KINDS if family is None or k.family == family]
    return rng.choices(pool, weights=[k.weight for k in pool])[0]


def _capacity(kind: Kind, rng: random.Random) -> int:
    lo, hi, mode = kind.capacity
    return round(rng.triangular(lo, hi, mode))


def _name(kind: Kind, city: str, rng: random.Random) -> str:
    pattern = rng.choice(kind.names)
    return pattern.format(lieu=rng.choice(LIEUX), saint=rng.choice(SAINTS), de_city=de(city))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


# The demo director's organisme gestionnaire (Ain, region 84): fixed names and states so
# that the demo shows a history, a draft in progress, a structure without assessment...
# (category, name, city, capacity, paliers of the submissions oldest first, draft)
DEMO_GROUP: tuple[tuple[str, str, str, int, tuple[int, ...], bool], ...] = (
    ("500", "EHPAD Les Tilleuls", "Bourg-en-Bresse", 84, (1, 2, 3), False),
    ("354", "SSIAD du Pays de Gex", "Gex", 60, (2,), True),
    ("183", "IME Les Sources", "Oyonnax", 48, (), True),
    ("202", "Résidence autonomie Le Clos Fleuri", "Ambérieu-en-Bugey", 42, (), False),
    ("437", "FAM Le Hameau du Bugey", "Belley", 36, (1,), False),
    ("500", "EHPAD La Roseraie", "Valserhône", 102, (0, 2), False),
)
DEMO_DEPARTMENT = "01"


def _plan_sites(n: int, rng: random.Random, national: bool) -> tuple[list[_Site], list[_Group]]:
    used: set[str] = set()
    sites: list[_Site] = []
    groups: list[_Group] = []

    def new_group(department: str) -> int:
        ej = finess_number(department, rng, used)
        email = DIRECTOR_EMAIL.format(ej=ej.lower())
        groups.append(_Group(ej, department, email, _person(rng)))
        return len(groups) - 1

    names: set[tuple[str, str]] = {(name, city) for _, name, city, *_ in DEMO_GROUP}

    def unique_name(kind: Kind, city: str) -> str:
        for _ in range(8):
            name = _name(kind, city, rng)
            if (name, city) not in names:
                break
        n = 2
        base = name
        while (name, city) in names:
            name, n = f"{base} (site {n})", n + 1
        names.add((name, city))
        return name

    # The demo director's structures first.
    g = new_group(DEMO_DEPARTMENT)
    groups[g].director_email, groups[g].director_name = DEMO_ACCOUNTS[0][0], DEMO_ACCOUNTS[0][3]
    for code, name, city, capacity, targets, draft in DEMO_GROUP:
        sites.append(_Site(
            finess=finess_number(DEMO_DEPARTMENT, rng, used), finess_ej=groups[g].ej,
            name=name, kind=KIND_BY_CODE[code], department=DEMO_DEPARTMENT,
            region=departments()[DEMO_DEPARTMENT].region_code, city=city, capacity=capacity,
            group=g, group_size=len(DEMO_GROUP), submissions=len(targets), draft=draft,
            targets=list(targets), forced=True,
        ))

    counts = _region_counts(n, national)
    home_region = sites[0].region
    counts[home_region] = counts.get(home_region, 0) - len(sites)
    while counts[home_region] < 0:  # tiny datasets: the demo group takes others' places
        donor = max((r for r in counts if r != home_region), key=lambda r: counts[r])
        counts[donor] -= 1
        counts[home_region] += 1
    for region, count in counts.items():
        codes, weights = _department_weights(
            c for c, d in departments().items() if d.region_code == region
        )
        left = count
        while left > 0:
            size = min(left, _group_size(rng))
            left -= size
            home = rng.choices(codes, weights=weights)[0]
            g = new_group(home)
            family = None if size == 1 else rng.choices(
                list(FAMILY_WEIGHTS), weights=list(FAMILY_WEIGHTS.values()))[0]
            for _ in range(size):
                department = home if rng.random() < 0.8 else rng.choices(codes, weights)[0]
                kind = _pick_kind(rng, family)
                city = rng.choice(CITIES[department][1])
                sites.append(_Site(
                    finess=finess_number(department, rng, used), finess_ej=groups[g].ej,
                    name=unique_name(kind, city), kind=kind, department=department,
                    region=region, city=city, capacity=_capacity(kind, rng), group=g,
                    group_size=size,
                ))
    return sites, groups


def _plan_states(sites: list[_Site], rng: random.Random) -> None:
    """Who has submitted (how many times), who has a draft, and the palier of each."""
    free = [s for s in sites if not s.forced]
    for s in free:
        x = rng.random()
        if x < 0.07:
            continue  # nothing yet
        if x < 0.14:
            s.draft = True  # a first assessment in progress
            continue
        s.submissions = rng.choices((1, 2, 3), weights=(62, 26, 12))[0]
        s.draft = rng.random() < 0.1  # a new assessment in progress

    # Latest palier by quotas over all structures with a submission; the demo director's
    # are fixed and taken out of the quotas. Larger, grouped, more mature categories tend
    # to rank higher, with plenty of noise.
    submitting = [s for s in sites if s.submissions]
    quotas = tier_quotas(len(submitting))
    for s in submitting:
        if s.forced:
            quotas[s.targets[-1]] -= 1
    ranked = sorted(
        (s for s in submitting if not s.forced),
        key=lambda s: (0.35 * math.log(s.capacity) + 0.3 * (s.group_size > 1)
                       + s.kind.propensity + rng.gauss(0, 0.6)),
    )
    i = 0
    for tier in sorted(quotas):
        for s in ranked[i:i + max(0, quotas[tier])]:
            s.targets = [tier]
        i += max(0, quotas[tier])
    for s in ranked[i:]:  # only if the fixed ones overflowed a quota
        s.targets = [rng.choice((1, 2))]
    for s in submitting:
        if s.forced:
            continue
        latest = s.targets[-1]
        history = []
        for _ in range(s.submissions - 1):
            latest = max(0, latest - rng.choice((0, 1, 1, 1, 2)))
            history.append(latest)
        s.targets = list(reversed(history)) + s.targets


# ---- dates -------------------------------------------------------------------------------


def _quarters(now: datetime) -> list[date]:
    """The first day of each quarter from CAMPAIGN_START to now."""
    out = []
    d = CAMPAIGN_START
    end = now.astimezone(PARIS).date()
    while d <= end:
        out.append(d)
        d = date(d.year + (d.month + 3 > 12), (d.month + 2) % 12 + 1, 1)
    return out


def _working_time(day: date, rng: random.Random) -> datetime:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    local = datetime(day.year, day.month, day.day, rng.randint(8, 18), rng.randint(0, 59),
                     rng.randint(0, 59), tzinfo=PARIS)
    return local.astimezone(UTC)


def _in_quarter(quarters: list[date], index: int, now: datetime,
                rng: random.Random) -> datetime:
    start = quarters[index]
    end = quarters[index + 1] if index + 1 < len(quarters) else now.astimezone(PARIS).date()
    span = max(1, (end - start).days - 1)
    when = _working_time(start + timedelta(days=rng.randrange(span)), rng)
    return min(when, now - timedelta(hours=2))


def _submission_dates(count: int, quarters: list[date], now: datetime,
                      rng: random.Random) -> list[datetime]:
    """`count` submission times, oldest first, in distinct quarters (campaigns)."""
    last = len(quarters) - 1
    lowest = min(last, 2 * (count - 1))
    indexes = list(range(lowest, last + 1))
    latest = rng.choices(indexes, weights=[1 + i - lowest for i in indexes])[0]
    picked = [latest]
    for _ in range(count - 1):
        picked.append(max(0, picked[-1] - rng.randint(1, 3)))
    return sorted(_in_quarter(quarters, i, now, rng) for i in picked)


# ---- loading -----------------------------------------------------------------------------


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _insert(conn: Connection, model: type[Any], rows: Sequence[dict[str, Any]],
            batch: int = BATCH, returning: bool = False) -> list[int]:
    table = _table(model)
    ids: list[int] = []
    stmt = insert(table)
    if returning:
        stmt = stmt.returning(table.c.id, sort_by_parameter_order=True)  # type: ignore[assignment]
    for i in range(0, len(rows), batch):
        chunk = list(rows[i:i + batch])
        if not chunk:
            continue
        res = conn.execute(stmt, chunk)
        if returning:
            ids.extend(res.scalars().all())
    return ids


def _meta(answers: dict[str, Any], user_id: int | None, start: datetime, end: datetime,
          rng: random.Random, source: int | None = None) -> tuple[dict[str, Any], int]:
    """answer_meta as autosave writes it (one save per answer, in questionnaire order), or
    as a prefill from assessment `source` writes it (revision 0)."""
    if source is not None:
        at = start.isoformat()
        return {qid: {"by": user_id, "at": at, "revision": 0, "from": source}
                for qid in answers}, 0
    # A few working sessions between start and end, answers saved ~40 s apart in each.
    days = max(0, (end.date() - start.date()).days)
    sessions = sorted({min(end, max(start, _working_time(
        start.date() + timedelta(days=rng.randint(0, days)), rng))) for _ in range(3)})
    sessions[0] = start
    qids = list(answers)
    size = math.ceil(len(qids) / len(sessions)) if qids else 1
    meta = {}
    for revision, qid in enumerate(qids, start=1):
        session_start = sessions[(revision - 1) // size]
        at = min(end, session_start + timedelta(seconds=40 * ((revision - 1) % size)
                                                + rng.randint(5, 35)))
        meta[qid] = {"by": user_id, "at": at.isoformat(), "revision": revision}
    return meta, len(answers)


class _AssessmentWriter:
    """Buffers assessments and writes them in batches with their domain scores and audit
    events; a draft prefilled from a submission gets the submission's id once written."""

    def __init__(self, conn: Connection, q: Questionnaire, say: Callable[[str], None]) -> None:
        self.conn = conn
        self.label = f"{q.id} {q.version}"
        self.say = say
        self.subs: list[tuple[dict[str, Any], Result, str]] = []
        self.drafts: list[tuple[dict[str, Any], str, dict[str, Any] | None]] = []
        self.n_submitted = 0
        self.n_drafts = 0

    def submitted(self, row: dict[str, Any], result: Result, finess: str) -> None:
        self.subs.append((row, result, finess))

    def draft(self, row: dict[str, Any], finess: str, source: dict[str, Any] | None) -> None:
        self.drafts.append((row, finess, source))

    def maybe_flush(self) -> None:
        if len(self.subs) >= 4 * JSON_BATCH:
            self.flush()

    def flush(self) -> None:
        ids = _insert(self.conn, Assessment, [r for r, _, _ in self.subs], batch=JSON_BATCH,
                      returning=True)
        written = {id(row): aid for (row, _, _), aid in zip(self.subs, ids, strict=True)}
        _insert(self.conn, AssessmentDomainScore, [
            {"assessment_id": aid, "domain_id": d["id"], "score": d["score"],
             "earned": float(d["earned"]), "max": float(d["max"])}
            for aid, (_, result, _) in zip(ids, self.subs, strict=True) for d in result.domains
        ])
        audit = [
            {"at": row["submitted_at"], "user_id": row["submitted_by"], "action": "submit",
             "object_type": "assessment", "object_id": str(aid),
             "details": {"finess": finess, "tier": row["tier_id"],
                         "global_score": row["global_score"], "questionnaire": self.label},
             "ip": None}
            for aid, (row, _, finess) in zip(ids, self.subs, strict=True)
        ]
        sources: list[int | None] = []
        for row, _, source in self.drafts:
            source_id = None if source is None else written[id(source)]
            for m in row["answer_meta"].values():
                if "from" in m:
                    m["from"] = source_id
            sources.append(source_id)
        draft_ids = _insert(self.conn, Assessment, [r for r, _, _ in self.drafts],
                            returning=True)
        for aid, (row, finess, _), source_id in zip(draft_ids, self.drafts, sources,
                                                     strict=True):
            audit.append({
                "at": row["created_at"], "user_id": row["created_by"],
                "action": "draft_created", "object_type": "assessment", "object_id": str(aid),
                "details": {"finess": finess, "questionnaire": self.label,
                            "prefilled_from": source_id},
                "ip": None,
            })
        _insert(self.conn, AuditEvent, audit)
        before = self.n_submitted
        self.n_submitted += len(self.subs)
        self.n_drafts += len(self.drafts)
        self.subs, self.drafts = [], []
        if self.n_submitted // 5000 > before // 5000:
            self.say(f"{self.n_submitted} évaluations soumises écrites…")


def load_demo(
    session: Session,
    q: Questionnaire,
    *,
    password: str = DEMO_PASSWORD,
    structures: int = DEFAULT_STRUCTURES,
    seed: int = DEFAULT_SEED,
    national: bool | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Fill an empty database with the demo dataset (one transaction); raise
    DatabaseNotEmpty if it holds structures or accounts."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    if structures < len(DEMO_GROUP):
        raise ValueError(f"at least {len(DEMO_GROUP)} structures are needed")
    begin_write(session)
    if not database_is_empty(session):
        session.rollback()
        raise DatabaseNotEmpty()
    rng = random.Random(seed)
    now = now or utcnow()
    national = structures > NATIONAL_THRESHOLD if national is None else national

    sites, groups = _plan_sites(structures, rng, national)
    _plan_states(sites, rng)
    say(f"{len(sites)} structures prévues, génération des évaluations…")

    builder = AnswerBuilder(q)
    quarters = _quarters(now)
    conn = session.connection()

    # Accounts (one argon2 hash for all).
    password_hash = hash_password(password)
    user_rows: list[dict[str, Any]] = []
    for email, role, region, name in DEMO_ACCOUNTS[1:]:
        user_rows.append(_user_row(email, name, role, region, password_hash))
    for grp in groups:
        user_rows.append(_user_row(grp.director_email, grp.director_name, Role.director, None,
                                   password_hash))
    user_ids = _insert(conn, User, user_rows, returning=True)
    email_to_id = {row["email"]: uid for row, uid in zip(user_rows, user_ids, strict=True)}
    for grp in groups:
        grp.user_id = email_to_id[grp.director_email]

    # Structures and their directors.
    structure_rows = [{
        "finess": s.finess, "finess_ej": s.finess_ej, "name": s.name,
        "category_code": s.kind.code, "category_label": finess_categories()[s.kind.code].label,
        "department": s.department, "region": s.region, "city": s.city,
        "capacity": s.capacity, "closed": False, "created_at": IMPORTED_AT,
        "updated_at": IMPORTED_AT,
    } for s in sites]
    for s, sid in zip(sites, _insert(conn, Structure, structure_rows, returning=True),
                      strict=True):
        s.id = sid
    _insert(conn, DirectorStructure, [
        {"user_id": groups[s.group].user_id, "structure_id": s.id, "created_at": IMPORTED_AT}
        for s in sites
    ])

    # Assessments, structure by structure, written in batches (bounded memory at 40,000).
    writer = _AssessmentWriter(conn, q, say)
    tier_counts: Counter[int] = Counter()
    for s in sites:
        uid = groups[s.group].user_id
        target = s.targets[-1] if s.targets else rng.choice((0, 1, 1, 2))
        base_profile = profile_answers(s.kind, s.capacity, s.group_size > 1, target, rng)
        last: tuple[dict[str, Any], dict[str, Any], datetime] | None = None  # row, answers
        dates = _submission_dates(s.submissions, quarters, now, rng) if s.submissions else []
        previous_global = -1.0
        for nth, (target, submitted_at) in enumerate(zip(s.targets, dates, strict=True)):
            profile = dict(base_profile)
            if nth < len(dates) - 1 and profile["regroupement"] == "oui" and rng.random() < 0.4:
                profile["regroupement"] = "en_cours"  # the grappe formed since
            for _ in range(5):  # progress: successive global scores should not drop
                answers, result = builder.build(profile, target, rng)
                if (result.global_score or 0) >= previous_global:
                    break
            previous_global = result.global_score or 0
            created = _working_time((submitted_at - timedelta(days=rng.randint(1, 25))).date(),
                                    rng)
            meta, saves = _meta(answers, uid, created, submitted_at, rng)
            row = {
                "structure_id": s.id, "questionnaire_id": q.id,
                "questionnaire_version": q.version, "status": AssessmentStatus.submitted.value,
                "answers": answers, "answer_meta": meta, "version": saves + 1,
                "created_by": uid, "created_at": created, "updated_at": submitted_at,
                "submitted_by": uid, "submitted_at": submitted_at, "result": result.to_dict(),
                "tier_id": result.tier["id"] if result.tier else None,
                "tier_level": result.tier_level, "global_score": result.global_score,
                "complete": True,
            }
            writer.submitted(row, result, s.finess)
            last = (row, answers, submitted_at)
        if s.targets:
            tier_counts[s.targets[-1]] += 1
        if s.draft:
            earliest = now - timedelta(days=120)
            if last is not None:
                earliest = max(earliest, last[2] + timedelta(hours=1))
            created = earliest + (now - earliest) * rng.uniform(0.0, 0.9)
            created = min(max(_working_time(created.date(), rng), earliest), now)
            updated = created + (now - created) * rng.uniform(0.05, 0.95)
            target = min(builder.top, s.targets[-1] + 1) if s.targets else target
            fresh, _ = builder.build(base_profile, target, rng)
            if last is None:  # a first assessment, filled in section by section
                answers = builder.partial(fresh, rng)
                meta, saves = _meta(answers, uid, created, updated, rng)
            else:  # "Nouvelle évaluation": prefilled from the last submission, a few changes
                previous = last[1]
                answers = dict(previous)
                meta, _ = _meta(answers, uid, created, created, rng, source=0)
                changed = [qid for qid in fresh
                           if fresh[qid] != previous.get(qid) and qid not in builder.fixed]
                saves = 0
                for qid in rng.sample(changed, min(len(changed), rng.randint(1, 8))):
                    saves += 1
                    answers[qid] = fresh[qid]
                    meta[qid] = {"by": uid, "at": (created + (updated - created) * saves / 9)
                                 .isoformat(), "revision": saves}
            errors = validate_answers(q, answers)
            if errors:  # a bug in this module
                raise CannotBuild(f"invalid draft answers: {errors}")
            writer.draft({
                "structure_id": s.id, "questionnaire_id": q.id,
                "questionnaire_version": q.version, "status": AssessmentStatus.draft.value,
                "answers": answers, "answer_meta": meta, "version": saves, "created_by": uid,
                "created_at": created, "updated_at": updated, "submitted_by": None,
                "submitted_at": None, "result": None, "tier_id": None, "tier_level": None,
                "global_score": None, "complete": False,
            }, s.finess, None if last is None else last[0])
        writer.maybe_flush()
    writer.flush()

    region_counts = Counter(s.region for s in sites)
    audit_rows = [{
        "at": now, "user_id": None, "action": "demo_loaded", "object_type": None,
        "object_id": None, "ip": None,
        "details": {"structures": len(sites), "regions": len(region_counts),
                    "submitted": writer.n_submitted, "drafts": writer.n_drafts,
                    "seed": seed},
    }]
    _insert(conn, AuditEvent, audit_rows)
    refresh_structures(session)  # the dashboards' read model (latest results)
    say("Validation de la transaction…")
    session.commit()

    demo_sites = [s for s in sites if s.group == 0]
    region_name = regions()[demo_sites[0].region].name
    accounts = [
        (DEMO_ACCOUNTS[0][0], Role.director.value,
         f"{len(demo_sites)} structures ({region_name})"),
        (DEMO_ACCOUNTS[1][0], Role.ars.value, regions()["84"].name),
        (DEMO_ACCOUNTS[2][0], Role.committee.value, "national"),
        (DEMO_ACCOUNTS[3][0], Role.admin.value, "toute la plateforme"),
    ]
    return DemoReport(
        structures=len(sites),
        regions=dict(sorted(region_counts.items())),
        groups=len(groups),
        submitted=writer.n_submitted,
        with_submission=sum(1 for s in sites if s.submissions),
        with_history=sum(1 for s in sites if s.submissions >= 2),
        drafts=writer.n_drafts,
        tiers=dict(sorted(tier_counts.items())),
        accounts=accounts,
        director_accounts=len(groups) - 1,
        password=password,
        seconds=time.perf_counter() - started,
    )


def _user_row(email: str, name: str, role: Role, region: str | None,
              password_hash: str) -> dict[str, Any]:
    return {"email": email.strip().lower(), "name": name, "password_hash": password_hash,
            "role": role.value, "region": region, "active": True, "created_at": IMPORTED_AT,
            "updated_at": IMPORTED_AT}
