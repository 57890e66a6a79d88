"""Structures (ESMS): the directory as an actor sees it, FINESS numbers, the FINESS import
(one adapter per format), corrections and manual creation by an admin, organismes
gestionnaires (FINESS EJ)."""
