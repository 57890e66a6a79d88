/*
 * Palier: small progressive enhancements. Loaded with `defer` after htmx; no inline script
 * anywhere (the CSP forbids it). Everything here must stay optional: pages work without JS.
 */
(function () {
  "use strict";

  /* DSFR components inside content swapped by htmx. The DSFR runs in its default "auto"
   * mode, whose MutationObserver initialises added components; dsfr.start() is idempotent
   * and makes sure the engine runs (e.g. if the module loaded after htmx's first load). */
  function startDsfr() {
    if (window.dsfr && typeof window.dsfr.start === "function") {
      window.dsfr.start();
    }
  }

  /* Multiple choice with an exclusive option ("Aucun"): checking it clears the others of
   * the same field, checking another option clears it. The server validates anyway. */
  function onExclusiveChange(event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.checked) return;
    var form = box.form || document;
    var group = form.querySelectorAll('input[type="checkbox"][name="' + CSS.escape(box.name) + '"]');
    var exclusive = box.getAttribute("data-exclusive") === "true";
    group.forEach(function (other) {
      if (other === box) return;
      if (exclusive || other.getAttribute("data-exclusive") === "true") other.checked = false;
    });
  }

  /* Fallback message when an htmx request fails and nothing else reports it. Elements
   * inside [data-palier-errors="self"] handle their own errors (e.g. the autosave status). */
  var MESSAGES = {
    401: "Votre session a expiré. Reconnectez-vous pour continuer.",
    403: "Cette action a été refusée. Rechargez la page puis réessayez.",
    404: "L’élément demandé est introuvable. Rechargez la page.",
    409: "Les données ont été modifiées entre-temps. Rechargez la page pour voir la dernière version."
  };

  function showError(text) {
    var area = document.getElementById("messages");
    if (!area) return;
    var alert = document.getElementById("palier-request-error");
    if (!alert) {
      alert = document.createElement("div");
      alert.id = "palier-request-error";
      alert.className = "fr-alert fr-alert--error fr-alert--sm";
      alert.setAttribute("role", "alert");
      area.appendChild(alert);
    }
    var p = document.createElement("p");
    p.textContent = text;
    alert.replaceChildren(p);
  }

  function handlesOwnErrors(elt) {
    return elt instanceof Element && elt.closest('[data-palier-errors="self"]') !== null;
  }

  function onResponseError(event) {
    if (handlesOwnErrors(event.target)) return;
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    showError(MESSAGES[status] || "Une erreur est survenue (code " + status + "). Réessayez dans quelques instants.");
  }

  function onSendError(event) {
    if (handlesOwnErrors(event.target)) return;
    showError("Le serveur n’a pas pu être joint. Vérifiez votre connexion internet puis réessayez.");
  }

  /* A page rendered with a blocking error (a refused form): move focus to the message so
   * keyboard and screen-reader users meet it first, and say so in the title. Pages that
   * manage focus themselves (the questionnaire's autosave) mark nothing here. */
  function focusServerError() {
    var alert = document.querySelector('#contenu .fr-alert--error[role="alert"]');
    if (!alert || alert.closest('[data-palier-errors="self"]')) return;
    if (!alert.hasAttribute("tabindex")) alert.setAttribute("tabindex", "-1");
    alert.focus();
    if (document.title.indexOf("Erreur") !== 0) document.title = "Erreur : " + document.title;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusServerError);
  } else {
    focusServerError();
  }
  document.addEventListener("change", onExclusiveChange);
  document.addEventListener("htmx:responseError", onResponseError);
  document.addEventListener("htmx:sendError", onSendError);
  if (window.htmx) {
    window.htmx.onLoad(startDsfr);
  }
})();
