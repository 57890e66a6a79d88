"""French labels of the audit trail's action and object type codes (journal page and CSV).

Every action recorded in app/ must have a label here (tests/unit/test_audit_labels.py reads
the source for them); a code missing from these tables (an event of an older version) is
shown as "Autre action (code)" rather than silently as the bare code.
"""

from __future__ import annotations

ACTIONS: dict[str, str] = {
    # accounts and sign-in
    "login": "Connexion",
    "login_failed": "Échec de connexion",
    "logout": "Déconnexion",
    "password_reset_requested": "Demande de réinitialisation du mot de passe",
    "password_reset": "Mot de passe réinitialisé",
    "password_changed": "Mot de passe modifié",
    "name_changed": "Nom modifié",
    "user_created": "Compte créé",
    "user_updated": "Compte modifié (rôle ou périmètre)",
    "user_deactivated": "Compte désactivé",
    "user_reactivated": "Compte réactivé",
    "permission_denied": "Accès refusé",
    "invitation_created": "Invitation envoyée",
    "invitation_revoked": "Invitation annulée",
    "invitation_accepted": "Invitation acceptée",
    "mfa_enrolled": "Double authentification activée",
    "mfa_failed": "Code de double authentification erroné",
    "mfa_recovery_code_used": "Code de secours utilisé",
    "mfa_recovery_codes_regenerated": "Codes de secours régénérés",
    "mfa_reset": "Double authentification réinitialisée par un administrateur",
    "mfa_device_remembered": "Appareil de confiance enregistré",
    "mfa_device_forgotten": "Appareil de confiance oublié",
    "pat_created": "Jeton d’accès à l’API créé",
    "pat_revoked": "Jeton d’accès à l’API révoqué",
    "oidc_login": "Connexion avec ProConnect",
    "oidc_identity_seen": "Identité ProConnect reçue",
    "oidc_unknown_identity": "Identité ProConnect sans compte",
    "oidc_link_requested": "Demande de liaison à ProConnect",
    "oidc_identity_linked": "Compte lié à ProConnect",
    "oidc_identity_unlinked": "Compte délié de ProConnect",
    # assessments and reviews
    "draft_created": "Évaluation commencée",
    "draft_carried_over": "Brouillon reporté sur la nouvelle version du questionnaire",
    "submit": "Évaluation transmise",
    "review": "Revue de l’ARS",
    "message": "Message échangé",
    "evidence_added": "Justificatif ajouté",
    "evidence_deleted": "Justificatif supprimé",
    # structures, campaigns, selections
    "structure_created": "Structure créée",
    "structure_corrected": "Structure corrigée",
    "structure_correction_removed": "Correction de structure retirée",
    "structures_imported": "Structures importées",
    "campaign_created": "Campagne ouverte",
    "campaign_reminder": "Relance de campagne envoyée",
    "shortlist_created": "Sélection créée",
    "export": "Export de données",
    # operations
    "audit_exported": "Export du journal d’audit",
    "purge": "Purge des données expirées",
    "demo_loaded": "Données de démonstration chargées",
}

OBJECT_TYPES: dict[str, str] = {
    "user": "Compte",
    "api_token": "Jeton d’API",
    "external_identity": "Identité ProConnect",
    "invitation": "Invitation",
    "assessment": "Évaluation",
    "evidence": "Justificatif",
    "structure": "Structure",
    "import_job": "Import de structures",
    "campaign": "Campagne",
    "shortlist": "Sélection",
    "region": "Région",
    "audit_event": "Journal d’audit",
}


def action_label(code: str) -> str:
    return ACTIONS.get(code) or f"Autre action ({code})"


def object_type_label(code: str | None) -> str:
    if not code:
        return ""
    return OBJECT_TYPES.get(code) or f"Autre objet ({code})"
