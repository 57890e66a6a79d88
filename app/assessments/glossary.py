"""The glossary of the acronyms the questionnaire uses (issue 10), and their detection in a
question's texts, so that every question links to the definitions of the acronyms it uses.

Definitions are written for Palier in plain words; entries whose facts were checked against
a public page carry it as `source`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from scoring import Question


@dataclass(frozen=True)
class Term:
    acronym: str
    expansion: str
    definition: str
    source: str | None = None

    @property
    def anchor(self) -> str:
        return "sigle-" + re.sub(r"[^a-z0-9]+", "-", self.acronym.lower()).strip("-")


_T = Term
TERMS: tuple[Term, ...] = (
    _T("ACT", "Appartement de coordination thérapeutique",
       "Hébergement temporaire avec un accompagnement médical et social pour des personnes "
       "malades en situation de fragilité."),
    _T("ANFH", "Association nationale pour la formation permanente du personnel hospitalier",
       "Organisme qui collecte et gère les fonds de formation des établissements publics de "
       "santé et médico-sociaux."),
    _T("ANS", "Agence du numérique en santé",
       "Agence nationale qui pilote les référentiels et les services socles du numérique en "
       "santé (INS, MSSanté, Pro Santé Connect, HDS…).",
       "https://gnius.esante.gouv.fr/fr/reglementation/fiches-reglementation/"
       "lidentite-nationale-de-sante-ins"),
    _T("ARS", "Agence régionale de santé",
       "Administration de l’État qui pilote la santé et le médico-social dans chaque région ; "
       "elle autorise et finance les ESMS et reçoit les autodiagnostics Palier."),
    _T("CAARUD", "Centre d’accueil et d’accompagnement à la réduction des risques pour "
       "usagers de drogues", "Structure médico-sociale de réduction des risques liés aux "
       "drogues."),
    _T("CAMSP", "Centre d’action médico-sociale précoce",
       "Structure qui dépiste et accompagne les jeunes enfants (moins de 6 ans) ayant ou "
       "risquant d’avoir un handicap."),
    _T("CaRE", "Cybersécurité accélération et résilience des établissements",
       "Programme national d’aide à la cybersécurité des établissements de santé et "
       "médico-sociaux (offres et ressources de l’ANS)."),
    _T("CCAS", "Centre communal d’action sociale",
       "Établissement public de la commune qui gère l’aide sociale et parfois des services "
       "ou établissements médico-sociaux."),
    _T("CERT", "Computer Emergency Response Team (CERT Santé)",
       "Équipe nationale qui reçoit les signalements d’incidents de sécurité numérique des "
       "structures de santé et médico-sociales et les aide à y répondre."),
    _T("CHRS", "Centre d’hébergement et de réinsertion sociale",
       "Établissement social qui héberge et accompagne des personnes en grande difficulté."),
    _T("CNSA", "Caisse nationale de solidarité pour l’autonomie",
       "Caisse de la sécurité sociale chargée de l’autonomie des personnes âgées et des "
       "personnes handicapées ; elle finance notamment le programme ESMS numérique."),
    _T("CPS", "Carte de professionnel de santé (et e-CPS, sa version mobile)",
       "Moyen d’identification électronique des professionnels, pour se connecter aux "
       "services de santé en ligne."),
    _T("CSAPA", "Centre de soins, d’accompagnement et de prévention en addictologie",
       "Structure médico-sociale qui accompagne les personnes ayant une addiction."),
    _T("CVS", "Conseil de la vie sociale",
       "Instance qui associe les personnes accompagnées et leurs proches au fonctionnement "
       "d’un établissement médico-social."),
    _T("DAC", "Dispositif d’appui à la coordination",
       "Service territorial qui aide les professionnels à organiser les parcours complexes."),
    _T("DLU", "Dossier de liaison d’urgence",
       "Document résumant les informations utiles en cas de transfert en urgence d’un "
       "résident d’EHPAD vers l’hôpital."),
    _T("DMP", "Dossier médical partagé",
       "Dossier médical en ligne de chaque personne, accessible dans Mon espace santé ; "
       "l’alimenter demande une INS qualifiée.",
       "https://segurnumerique.sante-idf.fr/segur-et-services-socles/services-socles/ins"),
    _T("DPO", "Délégué à la protection des données",
       "Personne chargée de veiller au respect du RGPD dans l’organisme."),
    _T("DUI", "Dossier usager informatisé",
       "Logiciel où les professionnels d’une structure médico-sociale tiennent le dossier de "
       "chaque personne accompagnée (admission, projet personnalisé, soins, transmissions)."),
    _T("EAM", "Établissement d’accueil médicalisé",
       "Établissement pour adultes handicapés avec une prise en charge médicale (anciens "
       "FAM)."),
    _T("EHPAD", "Établissement d’hébergement pour personnes âgées dépendantes",
       "Maison de retraite médicalisée."),
    _T("ESAT", "Établissement et service d’accompagnement par le travail",
       "Structure qui permet à des adultes handicapés d’exercer une activité professionnelle "
       "avec un accompagnement."),
    _T("ESMS", "Établissements et services sociaux et médico-sociaux",
       "Les structures que Palier évalue : EHPAD, services à domicile, établissements pour "
       "personnes handicapées, structures sociales…"),
    _T("ETP", "Équivalent temps plein",
       "Unité de mesure des effectifs : deux mi-temps font un ETP."),
    _T("FAM", "Foyer d’accueil médicalisé",
       "Établissement pour adultes lourdement handicapés, avec soins médicaux."),
    _T("FINESS", "Fichier national des établissements sanitaires et sociaux",
       "Répertoire national où chaque structure a un numéro à 9 chiffres (géographique pour "
       "l’établissement, juridique pour l’organisme gestionnaire)."),
    _T("GCSMS", "Groupement de coopération sociale et médico-sociale",
       "Forme juridique qui permet à plusieurs organismes de mettre des moyens en commun."),
    _T("GRADeS", "Groupement régional d’appui au développement de la e-santé",
       "Opérateur régional de l’ARS pour le numérique en santé : il accompagne les structures "
       "dans le déploiement des services socles (INS, DMP, MSSanté, Pro Santé Connect).",
       "https://dsih.fr/articles/5151/en-direct-de-santexpo-la-nouvelle-gouvernance-du-"
       "collectif-des-grades"),
    _T("HDS", "Hébergeur de données de santé",
       "Certification obligatoire pour tout prestataire qui héberge des données de santé "
       "pour le compte d’une structure ; le référentiel est publié par l’ANS.",
       "https://www.lsti-certification.fr/fr/certification-hebergeur-donnees-sante-hds"),
    _T("IEM", "Institut d’éducation motrice",
       "Établissement pour enfants et adolescents ayant un handicap moteur."),
    _T("IME", "Institut médico-éducatif",
       "Établissement pour enfants et adolescents ayant un handicap intellectuel."),
    _T("INS", "Identité nationale de santé",
       "Identité unique et pérenne de chaque personne (matricule et cinq traits d’état civil), "
       "obligatoire pour référencer les données de santé depuis le 1er janvier 2021.",
       "https://gnius.esante.gouv.fr/fr/reglementation/fiches-reglementation/"
       "lidentite-nationale-de-sante-ins"),
    _T("INSi", "Téléservice INSi",
       "Service de l’Assurance maladie, appelé depuis le logiciel, qui récupère ou vérifie "
       "l’INS d’une personne dans les bases nationales.",
       "https://gnius.esante.gouv.fr/fr/reglementation/fiches-reglementation/"
       "lidentite-nationale-de-sante-ins"),
    _T("ITEP", "Institut thérapeutique, éducatif et pédagogique",
       "Établissement pour jeunes présentant des difficultés psychologiques."),
    _T("LAM", "Lits d’accueil médicalisés",
       "Hébergement médicalisé pour des personnes sans domicile atteintes de maladies "
       "chroniques."),
    _T("LHSS", "Lits halte soins santé",
       "Hébergement temporaire avec soins pour des personnes sans domicile."),
    _T("MAS", "Maison d’accueil spécialisée",
       "Établissement pour adultes lourdement handicapés ayant besoin d’une aide constante."),
    _T("MDPH", "Maison départementale des personnes handicapées",
       "Guichet départemental qui instruit les droits et les orientations des personnes "
       "handicapées."),
    _T("MECS", "Maison d’enfants à caractère social",
       "Établissement de protection de l’enfance qui accueille des mineurs."),
    _T("MSSanté", "Messagerie sécurisée de santé",
       "Messageries réservées aux professionnels (et aux échanges avec les usagers via Mon "
       "espace santé) pour envoyer des données de santé en sécurité."),
    _T("OPCO", "Opérateur de compétences",
       "Organisme qui finance la formation professionnelle des salariés d’une branche."),
    _T("PCRA", "Plan de continuité et de reprise d’activité",
       "Document qui prévoit comment continuer à accompagner les personnes et redémarrer les "
       "systèmes après une panne ou une cyberattaque."),
    _T("PPA", "Projet personnalisé d’accompagnement",
       "Document co-construit avec la personne accompagnée, qui fixe ses objectifs et les "
       "réponses apportées."),
    _T("PSC", "Pro Santé Connect",
       "Fédération d’identité nationale : un professionnel se connecte aux services de santé "
       "avec sa carte CPS ou son e-CPS."),
    _T("RGPD", "Règlement général sur la protection des données",
       "Règlement européen qui encadre le traitement des données personnelles."),
    _T("RNIV", "Référentiel national d’identitovigilance",
       "Règles de bonne identification des personnes (vérification des pièces, usage de "
       "l’INS) que toutes les structures doivent appliquer.",
       "https://segurnumerique.sante-idf.fr/segur-et-services-socles/services-socles/ins"),
    _T("ROR", "Répertoire national de l’offre et des ressources en santé et accompagnement "
       "social et médico-social", "Référentiel qui décrit l’offre de chaque structure "
       "sanitaire et médico-sociale pour orienter les personnes ; les ESMS doivent y "
       "décrire leur offre.",
       "https://solidarites-sante.gouv.fr/systeme-de-sante-et-medico-social/e-sante/sih/"
       "article/repertoire-operationnel-des-ressources-ror"),
    _T("RPPS", "Répertoire partagé des professionnels de santé (RPPS+ pour les autres "
       "professionnels)", "Répertoire national qui identifie les professionnels ; RPPS+ "
       "y enregistre aussi les professionnels du médico-social pour leur donner une e-CPS."),
    _T("SAAD", "Service d’aide et d’accompagnement à domicile",
       "Service d’aide à domicile (repas, ménage, toilette) ; devenu un service autonomie à "
       "domicile (SAD)."),
    _T("SAD", "Service autonomie à domicile",
       "Service à domicile qui réunit l’aide et, le cas échéant, les soins (anciens SAAD, "
       "SSIAD et SPASAD)."),
    _T("SAJ", "Service d’accueil de jour",
       "Accueil en journée d’adultes handicapés."),
    _T("SAMSAH", "Service d’accompagnement médico-social pour adultes handicapés",
       "Service qui accompagne à domicile des adultes handicapés, avec des soins."),
    _T("SAVS", "Service d’accompagnement à la vie sociale",
       "Service qui accompagne des adultes handicapés dans leur vie quotidienne."),
    _T("SDSI", "Schéma directeur des systèmes d’information",
       "Plan pluriannuel qui fixe les objectifs et les projets informatiques d’un organisme."),
    _T("SESSAD", "Service d’éducation spéciale et de soins à domicile",
       "Service qui accompagne des enfants handicapés dans leurs lieux de vie."),
    _T("SI", "Système d’information",
       "L’ensemble des logiciels, des matériels et des données d’une structure, et "
       "l’organisation qui les fait fonctionner."),
    _T("SPASAD", "Service polyvalent d’aide et de soins à domicile",
       "Service à domicile qui associait aide et soins (aujourd’hui un SAD)."),
    _T("SSIAD", "Service de soins infirmiers à domicile",
       "Service de soins à domicile pour personnes âgées ou handicapées (aujourd’hui un "
       "SAD)."),
    _T("THD", "Très haut débit",
       "Connexion internet rapide (fibre optique notamment)."),
)


@cache
def _pattern() -> re.Pattern[str]:
    names = sorted((t.acronym for t in TERMS), key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?![\w])")


def by_acronym() -> dict[str, Term]:
    return {t.acronym: t for t in TERMS}


def acronyms_in(text: str) -> list[Term]:
    """The glossary's acronyms found in `text`, in order of first appearance, once each
    (case-sensitive: « ars » in a word is not ARS)."""
    return list(_acronyms_in(text or ""))


@lru_cache(maxsize=4096)  # the questionnaires' texts: the same few hundred on every page
def _acronyms_in(text: str) -> tuple[Term, ...]:
    terms = by_acronym()
    out: list[Term] = []
    for name in _pattern().findall(text):
        term = terms[name]
        if term not in out:
            out.append(term)
    return tuple(out)


def question_terms(question: Question) -> tuple[Term, ...]:
    """The acronyms a question uses in its label, help or options."""
    texts = [question.label, question.help or "", *(o.label for o in question.options or [])]
    return _acronyms_in(" ".join(texts))
