"""The glossary of the acronyms the questionnaire uses (issue 10), and their detection in a
question's texts, so that every question links to the definitions of the acronyms it uses.

Definitions are written for Palier in plain words; each one carries, as `source`, the public
page its facts were checked against (consulted on SOURCES_CONSULTED), shown on /glossaire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from scoring import Question

SOURCES_CONSULTED = date(2026, 12, 2)


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
       "malades en situation de fragilité.",
       "https://www.auvergne-rhone-alpes.ars.sante.fr/les-appartements-de-coordination-"
       "therapeutique-act-en-auvergne-rhone-alpes"),
    _T("ANFH", "Association nationale pour la formation permanente du personnel hospitalier",
       "Organisme paritaire agréé (OPCA) de la fonction publique hospitalière : il collecte et "
       "gère les fonds de formation des établissements publics sanitaires, sociaux et "
       "médico-sociaux.",
       "http://www.anfh.fr/site/anfhfr/verser-les-cotisations-anfh?user_type=2"),
    _T("ANS", "Agence du numérique en santé",
       "Agence nationale qui pilote les référentiels et les services socles du numérique en "
       "santé (INS, MSSanté, Pro Santé Connect, HDS…).",
       "https://gnius.esante.gouv.fr/fr/reglementation/fiches-reglementation/lidentite-"
       "nationale-de-sante-ins"),
    _T("ARS", "Agence régionale de santé",
       "Administration de l’État qui pilote la santé et le médico-social dans chaque région ; "
       "elle autorise et finance les ESMS et reçoit les autodiagnostics Palier.",
       "http://www.ars.sante.fr/Presentation-generale.89790.0.html"),
    _T("CAARUD", "Centre d’accueil et d’accompagnement à la réduction des risques pour "
       "usagers de drogues", "Structure médico-sociale de réduction des risques liés aux "
       "drogues.",
       "https://www.ofdt.fr/glossaire/centre-d-accueil-et-d-accompagnement-la-reduction-des-"
       "risques-pour-usagers-de-drogues"),
    _T("CAMSP", "Centre d’action médico-sociale précoce",
       "Structure qui dépiste et accompagne les jeunes enfants (moins de 6 ans) ayant ou "
       "risquant d’avoir un handicap.",
       "https://dordogne.fr/a-votre-service/handicap/centre-daction-medico-sociale-precoce-"
       "camsp"),
    _T("CaRE", "Cybersécurité accélération et résilience des établissements",
       "Programme national d’aide à la cybersécurité des établissements de santé et "
       "médico-sociaux (offres et ressources de l’ANS).",
       "https://esante.gouv.fr/securite/cybersecurite"),
    _T("CCAS", "Centre communal d’action sociale",
       "Organisme de la commune qui instruit les dossiers d’aide sociale de ses usagers "
       "(aide sociale légale, aide alimentaire…).",
       "https://api.gouv.fr/guides/ccas"),
    _T("CERT", "Computer Emergency Response Team (CERT Santé)",
       "Équipe nationale qui reçoit les signalements d’incidents de sécurité numérique des "
       "structures de santé et médico-sociales et les aide à y répondre.",
       "https://esante.gouv.fr/securite/accompagnement-cybersecurite-des-structures-de-sante"),
    _T("CHRS", "Centre d’hébergement et de réinsertion sociale",
       "Établissement social qui héberge et accompagne des personnes en grande difficulté.",
       "https://outil2amenagement.cerema.fr/outils/centre-dhebergement-et-reinsertion-sociale-"
       "chrs"),
    _T("CNSA", "Caisse nationale de solidarité pour l’autonomie",
       "Caisse de la sécurité sociale chargée de l’autonomie des personnes âgées et des "
       "personnes handicapées ; elle finance notamment le programme ESMS numérique.",
       "https://www.cnsa.fr/informations-thematiques/systeme-dinformation-et-numerique/"
       "programme-esms-numerique"),
    _T("CPS", "Carte de professionnel de santé",
       "Carte d’identité professionnelle électronique des secteurs de la santé et du "
       "médico-social, protégée par un code : elle permet au professionnel de s’authentifier "
       "pour accéder aux données et aux services de santé en ligne.",
       "http://esante.gouv.fr/en/node/5032"),
    _T("CSAPA", "Centre de soins, d’accompagnement et de prévention en addictologie",
       "Structure médico-sociale qui accompagne les personnes ayant une addiction.",
       "https://www.auvergne-rhone-alpes.ars.sante.fr/les-centres-de-soins-daccompagnement-et-"
       "de-prevention-en-addictologie-csapa-en-auvergne-rhone-alpes"),
    _T("CVS", "Conseil de la vie sociale",
       "Instance qui associe les personnes accompagnées au fonctionnement d’un établissement "
       "ou service médico-social : elle rend des avis et fait des propositions (vie "
       "quotidienne, activités, travaux, prix des services…).",
       "https://www.normandie.ars.sante.fr/conseil-de-la-vie-sociale-cvs-1"),
    _T("DAC", "Dispositif d’appui à la coordination",
       "Service territorial qui aide les professionnels à organiser les parcours complexes.",
       "https://www.cnsa.fr/informations-thematiques/accompagnement-des-situations-complexes/"
       "dispositifs-dappui-la-coordination"),
    _T("DLU", "Dossier de liaison d’urgence",
       "Document résumant les informations utiles en cas de transfert en urgence d’un "
       "résident d’EHPAD vers l’hôpital.",
       "https://www.has-sante.fr/jcms/pprd_2974445/en/le-dossier-de-liaison-d-urgence-"
       "essentiel-pour-le-suivi-du-patient-age-dependant"),
    _T("DMP", "Dossier médical partagé",
       "Carnet de santé numérique de chaque personne, mis en œuvre par l’Assurance maladie et "
       "intégré à Mon espace santé : les professionnels autorisés y consultent et y versent "
       "les documents utiles à la prise en charge.",
       "https://gnius.esante.gouv.fr/fr/reglementation/fiches-reglementation/dossier-medical-"
       "partage-dmp"),
    _T("DPO", "Délégué à la protection des données",
       "Personne qui informe et conseille l’organisme sur la protection des données et "
       "contrôle le respect du RGPD ; toute structure publique doit en désigner un.",
       "http://www.cnil.fr/fr/designer-un-delegue-la-protection-des-donnees-dans-une-"
       "collectivite"),
    _T("DUI", "Dossier usager informatisé",
       "Logiciel où les professionnels d’une structure médico-sociale tiennent le dossier de "
       "chaque personne accompagnée (admission, projet personnalisé, soins, transmissions).",
       "https://www.cnsa.fr/informations-thematiques/systeme-dinformation-et-numerique/"
       "programme-esms-numerique"),
    _T("EAM", "Établissement d’accueil médicalisé",
       "Établissement pour adultes handicapés avec une prise en charge médicale (anciens "
       "FAM).",
       "https://www.haute-vienne.fr/nos-actions/personnes-en-situation-de-handicap/vous-"
       "recherchez-un-mode-daccueil-ou-un-hebergement/les-foyers-daccueil-medicalises-fam/eam"),
    _T("EHPAD", "Établissement d’hébergement pour personnes âgées dépendantes",
       "Maison de retraite médicalisée.",
       "https://hagenbach.illicoweb.com/service-public/fiche/F763"),
    _T("ESAT", "Établissement et service d’accompagnement par le travail",
       "Établissement médico-social où des adultes handicapés, orientés par la MDPH, exercent "
       "une activité professionnelle adaptée avec un soutien médico-social et éducatif.",
       "https://monparcourshandicap.gouv.fr/emploi/travailler-en-esat"),
    _T("ESMS", "Établissements et services sociaux et médico-sociaux",
       "Les structures que Palier évalue : EHPAD, services à domicile, établissements pour "
       "personnes handicapées, structures sociales…",
       "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000038833680"),
    _T("ETP", "Équivalent temps plein",
       "Unité de mesure des effectifs : un salarié à temps plein compte pour 1, un salarié à "
       "temps partiel au prorata de son temps de travail (deux mi-temps font un ETP).",
       "http://travail-emploi.gouv.fr/dialogue-social/representants-du-personnel/article/les-"
       "regles-de-decompte-des-effectifs"),
    _T("FAM", "Foyer d’accueil médicalisé",
       "Établissement pour adultes lourdement handicapés, avec soins médicaux.",
       "https://www.haute-vienne.fr/nos-actions/personnes-en-situation-de-handicap/vous-"
       "recherchez-un-mode-daccueil-ou-un-hebergement/les-foyers-daccueil-medicalises-fam/eam"),
    _T("FINESS", "Fichier national des établissements sanitaires et sociaux",
       "Répertoire national où chaque structure a un numéro à 9 chiffres (géographique pour "
       "l’établissement, juridique pour l’organisme gestionnaire).",
       "https://industriels.esante.gouv.fr/en/products-and-services/finess-directory"),
    _T("GCSMS", "Groupement de coopération sociale et médico-sociale",
       "Groupement, prévu par l’article L. 312-7 du code de l’action sociale et des familles, "
       "par lequel des établissements et services sociaux et médico-sociaux coopèrent.",
       "https://sante.gouv.fr/fichiers/bo/2007/07-08/a0080235.htm"),
    _T("GRADeS", "Groupement régional d’appui au développement de la e-santé",
       "Opérateur régional du numérique en santé, qui travaille avec l’ARS : il accompagne "
       "les professionnels et les structures dans le déploiement des outils numériques "
       "(e-parcours, télé-expertise, cybersécurité, interopérabilité…).",
       "https://www.centre-val-de-loire.ars.sante.fr/lettre-pro-entretiens-autour-de-la-e-"
       "sante-une-construction-collective"),
    _T("HDS", "Hébergeur de données de santé",
       "Certification obligatoire pour tout organisme qui héberge des données de santé pour "
       "le compte d’une structure (ou exploite son système d’information de santé, ou en "
       "fait les sauvegardes) ; un organisme indépendant accrédité la délivre.",
       "https://esante.gouv.fr/labels-certifications/hebergement-des-donnees-de-sante"),
    _T("IEM", "Institut d’éducation motrice",
       "Établissement pour enfants et adolescents ayant un handicap moteur.",
       "https://ressources.anap.fr/pilotage/publication/1895-le-secteur-medico-social-"
       "comprendre-pour-agir-mieux/2825-les-instituts-d-education-motrice-iem"),
    _T("IME", "Institut médico-éducatif",
       "Établissement pour enfants et adolescents ayant un handicap intellectuel.",
       "https://handicap.paris.fr/etre-accueilli-en-etablissement/etablissements-pour-enfants/"),
    _T("INS", "Identité nationale de santé",
       "Identité unique et pérenne de chaque personne (matricule et cinq traits d’état civil), "
       "obligatoire pour référencer les données de santé depuis le 1er janvier 2021.",
       "https://gnius.esante.gouv.fr/fr/reglementation/fiches-reglementation/lidentite-"
       "nationale-de-sante-ins"),
    _T("INSi", "Téléservice INSi",
       "Service de l’Assurance maladie, appelé depuis le logiciel, qui récupère ou vérifie "
       "l’INS d’une personne dans les bases nationales.",
       "https://gnius.esante.gouv.fr/fr/reglementation/fiches-reglementation/lidentite-"
       "nationale-de-sante-ins"),
    _T("ITEP", "Institut thérapeutique, éducatif et pédagogique",
       "Établissement pour enfants et jeunes dont les difficultés psychologiques perturbent "
       "gravement la socialisation et les apprentissages, malgré des capacités intellectuelles "
       "préservées.",
       "https://ac-bordeaux.fr/les-etablissements-medico-sociaux-sessad-les-prises-en-charge-"
       "sanitaires-122085"),
    _T("LAM", "Lits d’accueil médicalisés",
       "Hébergement médicalisé pour des personnes sans domicile atteintes de maladies "
       "chroniques.",
       "https://www.cnle.gouv.fr/les-lits-d-accueil-medicalises-lam.html"),
    _T("LHSS", "Lits halte soins santé",
       "Hébergement temporaire avec soins pour des personnes sans domicile.",
       "https://www.auvergne-rhone-alpes.ars.sante.fr/les-lits-halte-soins-sante-lhss-en-"
       "auvergne-rhone-alpes"),
    _T("MAS", "Maison d’accueil spécialisée",
       "Établissement pour adultes lourdement handicapés ayant besoin d’une aide constante.",
       "https://mdph51.fr/glossaire/mas"),
    _T("MDPH", "Maison départementale des personnes handicapées",
       "Guichet unique, dans chaque département, pour les démarches des personnes "
       "handicapées ; sa commission (CDAPH) décide de leurs droits.",
       "https://info.gouv.fr/guide-victimes/maison-departementale-des-personnes-handicapees-"
       "mdph"),
    _T("MECS", "Maison d’enfants à caractère social",
       "Établissement de protection de l’enfance qui accueille des mineurs.",
       "https://pasdecalais.fr/les-etablissements-et-services-daccueil-en-protection-de-"
       "lenfance-missions-et-fonctionnement"),
    _T("MSSanté", "Messagerie sécurisée de santé",
       "Messageries réservées aux professionnels (et aux échanges avec les usagers via Mon "
       "espace santé) pour envoyer des données de santé en sécurité.",
       "https://esante.gouv.fr/offres-services/mssante"),
    _T("OPCO", "Opérateur de compétences",
       "Organisme paritaire agréé qui finance l’apprentissage et la professionnalisation dans "
       "les branches qui y adhèrent, et aide les petites entreprises à définir leurs besoins de "
       "formation.",
       "https://www.legifrance.gouv.fr/affichCode.do?idSectionTA=LEGISCTA000006195950"
       "&cidTexte=LEGITEXT000006072050&dateTexte=20190522"),
    _T("PCRA", "Plan de continuité et de reprise d’activité",
       "Document qui prévoit comment continuer à accompagner les personnes et redémarrer les "
       "systèmes après une panne ou une cyberattaque.",
       "https://esante.gouv.fr/FAQ-CaRE"),
    _T("PPA", "Projet personnalisé d’accompagnement",
       "Document co-construit avec la personne accompagnée, qui fixe ses objectifs et les "
       "réponses apportées.",
       "https://dirips.com/projets-personnalises-usager-essms/"),
    _T("PSC", "Pro Santé Connect",
       "Service national d’authentification de l’ANS : un professionnel se connecte aux "
       "services numériques en santé avec sa carte CPS ou son application e-CPS.",
       "https://industriels.esante.gouv.fr/en/products-services/health-pro-authentication-"
       "pro-sante-connect"),
    _T("RGPD", "Règlement général sur la protection des données",
       "Règlement européen qui encadre le traitement des données personnelles ; il impose "
       "notamment à toute structure publique de désigner un délégué à la protection des "
       "données.",
       "https://www.cnil.fr/fr/designer-un-delegue-la-protection-des-donnees-dans-une-"
       "collectivite"),
    _T("RNIV", "Référentiel national d’identitovigilance",
       "Règles nationales de bonne identification des usagers (vérification de l’identité, "
       "usage de l’INS), opposables à tous les acteurs de santé.",
       "https://www.nouvelle-aquitaine.ars.sante.fr/lidentitovigilance-au-coeur-de-la-"
       "securite-des-soins"),
    _T("ROR", "Répertoire national de l’offre et des ressources en santé et accompagnement "
       "social et médico-social", "Référentiel qui décrit l’offre de chaque structure "
       "sanitaire et médico-sociale pour orienter les personnes ; les ESMS doivent y "
       "décrire leur offre.",
       "https://solidarites-sante.gouv.fr/systeme-de-sante-et-medico-social/e-sante/sih/"
       "article/repertoire-operationnel-des-ressources-ror"),
    _T("RPPS", "Répertoire partagé des professionnels de santé (RPPS+ pour les autres "
       "professionnels)", "Répertoire national qui identifie les professionnels ; RPPS+ "
       "y enregistre aussi les professionnels du médico-social pour leur donner une e-CPS.",
       "https://esante.gouv.fr/securite/annuaire-sante/portail-RPPS-plus/FAQ-portail-RPPS-plus"),
    _T("SAAD", "Service d’aide et d’accompagnement à domicile",
       "Service d’aide à domicile (repas, ménage, toilette) ; devenu un service autonomie à "
       "domicile (SAD).",
       "https://www.iledefrance.ars.sante.fr/index.php/les-services-autonomie-domicile-sad-0"),
    _T("SAD", "Service autonomie à domicile",
       "Service à domicile qui réunit l’aide et, le cas échéant, les soins (anciens SAAD, "
       "SSIAD et SPASAD).",
       "https://www.iledefrance.ars.sante.fr/index.php/les-services-autonomie-domicile-sad-0"),
    _T("SAJ", "Service d’accueil de jour",
       "Accueil, à la journée ou à la demi-journée et dans des locaux dédiés, de personnes "
       "handicapées qui vivent à domicile.",
       "https://wikisol62.pasdecalais.fr/jcms/sth_5191/wikisol62-portail?cids=sth_9696&jsp="
       "front%2Fquery%2Fquery.jsp&start=10&pageSize=10&pagerAll=false&sort=relevance&"
       "reverse=false&appTab=content"),
    _T("SAMSAH", "Service d’accompagnement médico-social pour adultes handicapés",
       "Service qui accompagne à domicile des adultes handicapés, avec des soins.",
       "https://www.mdph36.fr/droits-et-prestations/adultes/les-services-daccompagnement-a-"
       "domicile-savs-et-samsah/"),
    _T("SAVS", "Service d’accompagnement à la vie sociale",
       "Service qui accompagne des adultes handicapés dans leur vie quotidienne.",
       "https://www.mdph36.fr/droits-et-prestations/adultes/les-services-daccompagnement-a-"
       "domicile-savs-et-samsah/"),
    _T("SDSI", "Schéma directeur des systèmes d’information",
       "Plan pluriannuel qui fixe les objectifs et les projets informatiques d’un organisme.",
       "https://antauen.fr/sdsi-et-transformation-numerique"),
    _T("SESSAD", "Service d’éducation spéciale et de soins à domicile",
       "Service de soins spécialisés qui accompagne des enfants handicapés sur leur lieu de "
       "scolarité ou à leur domicile.",
       "https://www.mdph36.fr/droits-et-prestations/enfants/orientation-vers-un-etablissement-"
       "ou-un-service-medico-social/"),
    _T("SI", "Système d’information",
       "Ensemble organisé des matériels, logiciels, données, personnes et procédures qui "
       "permet à une structure de recueillir, traiter et partager ses informations.",
       "https://autodiag.anap.fr/numerique/publication/681-systemes-d-information-dans-le-"
       "secteur-medico-social-retours-d-experience-et-grands-enseignements/3208-la-demarche-"
       "d-urbanisation-d-un-si"),
    _T("SPASAD", "Service polyvalent d’aide et de soins à domicile",
       "Service à domicile qui associait aide et soins (aujourd’hui un SAD).",
       "https://www.iledefrance.ars.sante.fr/index.php/les-services-autonomie-domicile-sad-0"),
    _T("SSIAD", "Service de soins infirmiers à domicile",
       "Service de soins à domicile pour personnes âgées ou handicapées (aujourd’hui un "
       "SAD).",
       "https://www.iledefrance.ars.sante.fr/index.php/les-services-autonomie-domicile-sad-0"),
    _T("THD", "Très haut débit",
       "Connexion internet d’au moins 30 Mbit/s en réception, le seuil retenu par l’Arcep "
       "(fibre optique notamment).",
       "https://numerama.com/tech/34108-fibre-optique-nombre-france.html"),
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
