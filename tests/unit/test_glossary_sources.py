"""The glossary's sources are official pages (issue 10): every source's host is in an
allow-list written here by hand, or in the explicit list of exceptions below (terms for which
no official page was found yet). Both lists are exact: a new unofficial source fails, and so
does an exception that was replaced without being taken off the list."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.assessments.glossary import TERMS

# National administrations and public bodies: any host under these domains.
OFFICIAL_DOMAINS = (
    "gouv.fr",  # ministries, Légifrance, ANS (esante.gouv.fr), CNLE, service-public…
    "ars.sante.fr",  # the agences régionales de santé
)
# Other public bodies and local public authorities, host by host.
OFFICIAL_HOSTS = {
    "www.cnil.fr",  # Commission nationale de l'informatique et des libertés
    "www.cnsa.fr",  # Caisse nationale de solidarité pour l'autonomie
    "www.has-sante.fr",  # Haute Autorité de santé
    "ressources.anap.fr",  # Agence nationale de la performance sanitaire et médico-sociale
    "autodiag.anap.fr",  # the same agency's publications
    "www.ofdt.fr",  # Observatoire français des drogues et des tendances addictives
    "outil2amenagement.cerema.fr",  # Cerema, public establishment of the State
    "dordogne.fr",  # département de la Dordogne
    "www.haute-vienne.fr",  # département de la Haute-Vienne
    "pasdecalais.fr",  # département du Pas-de-Calais
    "wikisol62.pasdecalais.fr",  # département du Pas-de-Calais (guide des solidarités)
    "handicap.paris.fr",  # Ville de Paris
    "mdph51.fr",  # maison départementale des personnes handicapées de la Marne
    "www.mdph36.fr",  # maison départementale des personnes handicapées de l'Indre
    "ac-bordeaux.fr",  # académie de Bordeaux (Éducation nationale)
    "www.anfh.fr",  # the ANFH's own site, for the ANFH (the OPCA of the hospital civil service)
}
# No official page found with the search tool yet (acronym: host of the page kept).
EXCEPTIONS = {
    "EHPAD": "hagenbach.illicoweb.com",  # a town hall's copy of service-public.fr F763
    "PPA": "dirips.com",
    "SDSI": "antauen.fr",
    "THD": "numerama.com",
}


def _official(host: str) -> bool:
    return host in OFFICIAL_HOSTS or any(host == d or host.endswith("." + d)
                                         for d in OFFICIAL_DOMAINS)


def test_every_source_is_official_or_a_listed_exception() -> None:
    hosts = {t.acronym: urlsplit(t.source or "").hostname or "" for t in TERMS}
    assert {a: h for a, h in hosts.items() if not _official(h)} == EXCEPTIONS


def test_the_allow_list_rejects_look_alikes() -> None:
    assert _official("www.legifrance.gouv.fr") and _official("www.normandie.ars.sante.fr")
    assert not _official("gouv.fr.example.com")
    assert not _official("notgouv.fr")
    assert not _official("www.cnil.fr.example.org")
    assert not _official("fake-ars.sante.fr")
