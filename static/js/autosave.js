/*
 * Palier: autosave of the questionnaire (section pages). Loaded with `defer` after htmx and
 * palier.js; no inline script anywhere (CSP). Without JavaScript the section form posts as a
 * whole; with it, every answer is saved as it changes and nothing is ever lost silently.
 *
 * Protocol (see app/routes/director.py, `autosave`):
 *   POST <form data-autosave-url>   form-encoded: question=<id>, version=<base version of this
 *     question>, seen=<latest version this page knows>, q_<id>=<value(s)> (absent: cleared);
 *     headers HX-Request: true, X-CSRF-Token.
 *   200 X-Palier-Outcome: saved     X-Palier-Version: new version; body: elements that replace
 *     the elements with the same id (version input, status, progress, section counts, and the
 *     questions of the section whose visibility or value changed).
 *   409 conflict | closed, 422 invalid: body holds the alert(s) or the question with its error.
 *   401: session expired; 403: CSRF token stale (after logging in again) or not allowed.
 *   GET <form data-question-url><id>: one question with its saved value ("keep theirs").
 * Requests leave one at a time, in order of change; the value sent is read when the request
 * leaves, so the last value wins.
 */
(function () {
  "use strict";

  var focusTarget = document.querySelector("[data-autofocus]");
  if (focusTarget) focusTarget.focus();

  var form = document.getElementById("section-form");
  if (!form || !form.getAttribute("data-autosave-url") || !window.fetch) return;

  var SAVE_URL = form.getAttribute("data-autosave-url");
  var QUESTION_URL = form.getAttribute("data-question-url");
  var DEBOUNCE_MS = 600;
  var RETRY_MS = 30000;
  var TEXT_TYPES = { text: 1, number: 1, email: 1, tel: 1, url: 1, search: 1 };

  var state = {
    version: readVersion(),
    queue: [],        // question ids waiting to be sent, in order of change
    seq: {},          // question id -> change counter
    timers: {},       // question id -> debounce timer
    unsaved: {},      // question id -> true while the page holds a value not saved
    base: {},         // question id -> version the user's value was based on (if older)
    blocked: {},      // question id -> "conflict" | "invalid": waits for the user
    busy: false,      // a request is in flight
    paused: null,     // null | "auth" | "offline" | "error" | "forbidden" | "closed"
    csrfRetried: false,
    retryTimer: null,
    waiters: [],
    submitting: false
  };

  /* ---- small helpers ------------------------------------------------------------------ */

  function readVersion() {
    var input = document.getElementById("assessment-version");
    return input ? parseInt(input.value, 10) || 0 : 0;
  }

  function csrfToken() {
    var input = form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  function questionOf(el) {
    if (!(el instanceof Element)) return null;
    var name = el.getAttribute("name") || "";
    if (name.indexOf("q_") !== 0 || !form.contains(el)) return null;
    return name.slice(2);
  }

  function wrapper(qid) {
    return document.getElementById("question-" + qid);
  }

  function fields(qid) {
    return form.querySelectorAll('[name="q_' + CSS.escape(qid) + '"]');
  }

  function isTextual(el) {
    return el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && TEXT_TYPES[el.type] === 1);
  }

  function labelOf(qid) {
    var w = wrapper(qid);
    var label = w && w.querySelector("legend, label");
    return label ? label.textContent.replace(/\s*\(obligatoire\)\s*$/, "").trim() : qid;
  }

  function setStatus(text, kind) {
    var current = document.getElementById("save-status-text");
    if (!current) return;
    var span = document.createElement("span");
    span.id = "save-status-text";
    span.className = "palier-save-status__text" + (kind ? " palier-save-status--" + kind : "");
    span.textContent = text;
    current.replaceWith(span);
  }

  function hasPending() {
    return state.busy || state.queue.length > 0 || Object.keys(state.timers).length > 0;
  }

  function hasUnsaved() {
    return hasPending() || Object.keys(state.unsaved).length > 0;
  }

  function markFailed() {
    Object.keys(state.unsaved).forEach(function (qid) {
      var w = wrapper(qid);
      if (w) w.classList.add("palier-question--unsaved");
    });
  }

  function markSaved(qid) {
    delete state.unsaved[qid];
    var w = wrapper(qid);
    if (w) w.classList.remove("palier-question--unsaved");
  }

  /* ---- alerts ------------------------------------------------------------------------- */

  function alertsArea() {
    return document.getElementById("autosave-alerts");
  }

  function putAlert(el, focus) {
    var area = alertsArea();
    if (!area) return;
    var existing = el.id ? document.getElementById(el.id) : null;
    if (existing) existing.replaceWith(el);
    else area.appendChild(el);
    if (focus) {
      if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
      el.focus();
    }
  }

  function removeAlert(id) {
    var el = document.getElementById(id);
    if (el) el.remove();
  }

  function button(text, action, extra) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "fr-btn fr-btn--sm" + (extra || "");
    b.setAttribute("data-autosave-action", action);
    b.textContent = text;
    return b;
  }

  var FAILURES = {
    auth: {
      title: "Session expirée : réponses non enregistrées",
      text: "Votre session a expiré. Vos réponses non enregistrées sont conservées sur cette " +
        "page : reconnectez-vous dans un autre onglet puis cliquez sur Réessayer.",
      login: true
    },
    offline: {
      title: "Connexion perdue : réponses non enregistrées",
      text: "Le serveur n’a pas pu être joint. Vos réponses non enregistrées sont conservées " +
        "sur cette page et seront envoyées automatiquement au retour de la connexion. Vous " +
        "pouvez aussi cliquer sur Réessayer. Ne fermez pas cette page d’ici là."
    },
    forbidden: {
      title: "Enregistrement refusé",
      text: "L’enregistrement a été refusé (droits insuffisants ou page trop ancienne). Vos " +
        "réponses non enregistrées sont conservées sur cette page : vérifiez que vous êtes " +
        "connecté avec le bon compte dans un autre onglet, puis cliquez sur Réessayer.",
      login: true
    },
    error: {
      title: "Erreur du serveur : réponses non enregistrées",
      text: "Le serveur a rencontré une erreur. Vos réponses non enregistrées sont conservées " +
        "sur cette page : réessayez dans quelques instants. Ne fermez pas cette page d’ici là."
    }
  };

  function showFailure(kind, status) {
    var info = FAILURES[kind] || FAILURES.error;
    var box = document.createElement("div");
    box.id = "autosave-failure";
    box.className = "fr-alert fr-alert--error palier-autosave-alert";
    box.setAttribute("role", "alert");
    box.setAttribute("tabindex", "-1");
    var title = document.createElement("p");
    title.className = "fr-alert__title";
    title.textContent = info.title;
    var text = document.createElement("p");
    text.textContent = info.text + (status ? " (code " + status + ")" : "");
    var count = Object.keys(state.unsaved).length;
    var list = document.createElement("p");
    list.textContent = count ? "Réponse" + (count > 1 ? "s" : "") + " en attente : " +
      Object.keys(state.unsaved).map(labelOf).join(" ; ") + "." : "";
    var actions = document.createElement("ul");
    actions.className = "fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm fr-mt-2w";
    if (info.login) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.className = "fr-btn fr-btn--secondary fr-btn--sm";
      a.href = "/connexion?suivant=" + encodeURIComponent(location.pathname);
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = "Se reconnecter (nouvel onglet)";
      li.appendChild(a);
      actions.appendChild(li);
    }
    var li2 = document.createElement("li");
    li2.appendChild(button("Réessayer", "retry"));
    actions.appendChild(li2);
    box.append(title, text, list, actions);
    putAlert(box, true);
    markFailed();
    setStatus("Réponses non enregistrées", "error");
  }

  function showRecovered() {
    var failure = document.getElementById("autosave-failure");
    if (!failure) return;
    var box = document.createElement("div");
    box.id = "autosave-failure";
    box.className = "fr-alert fr-alert--success fr-alert--sm palier-autosave-alert";
    box.setAttribute("role", "status");
    var p = document.createElement("p");
    p.textContent = "Enregistrement rétabli : vos réponses en attente ont été enregistrées. ";
    var close = button("Masquer ce message", "dismiss", " fr-btn--tertiary-no-outline");
    p.appendChild(close);
    box.appendChild(p);
    failure.replaceWith(box);
  }

  /* ---- applying server fragments ------------------------------------------------------ */

  function replaceKeepingFocus(old, fresh) {
    var active = document.activeElement;
    var focusId = active && old.contains(active) ? active.id : null;
    old.replaceWith(fresh);
    if (focusId) {
      var again = document.getElementById(focusId);
      if (again) again.focus();
    }
  }

  /* Replace, by id, the page's elements with the response's top-level elements. Refreshed
   * questions that hold an unsaved value keep it (its base version stays the older one). */
  function apply(html, sent) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var focusAlert = null;
    Array.prototype.slice.call(tpl.content.children).forEach(function (el) {
      var id = el.id;
      if (!id) return;
      if (id.indexOf("autosave-conflict-") === 0 || id === "autosave-closed") {
        putAlert(el, false);
        focusAlert = focusAlert || el;
        return;
      }
      var old = document.getElementById(id);
      if (!old) return;
      if (id.indexOf("question-") === 0 && sent) {
        var qid = id.slice("question-".length);
        var hiding = el.hasAttribute("hidden");
        if (qid !== sent.qid && state.unsaved[qid] && !hiding) {
          if (!(qid in state.base)) state.base[qid] = sent.seen;
          return;
        }
        if (hiding) forget(qid);
      }
      replaceKeepingFocus(old, el);
    });
    if (focusAlert) focusAlert.focus();
  }

  /* A question that no longer applies: its pending value is dropped with it. */
  function forget(qid) {
    clearTimeout(state.timers[qid]);
    delete state.timers[qid];
    state.queue = state.queue.filter(function (q) { return q !== qid; });
    delete state.blocked[qid];
    delete state.base[qid];
    removeAlert("autosave-conflict-" + qid);
    markSaved(qid);
  }

  function clearError(qid) {
    var w = wrapper(qid);
    if (!w) return;
    w.querySelectorAll("[class*='--error']").forEach(function (el) {
      Array.prototype.slice.call(el.classList).forEach(function (c) {
        if (/--error$/.test(c) && c.indexOf("fr-message") !== 0) el.classList.remove(c);
      });
    });
    w.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
    w.querySelectorAll(".fr-message--error").forEach(function (el) { el.remove(); });
  }

  /* ---- the queue ---------------------------------------------------------------------- */

  function touch(qid) {
    state.seq[qid] = (state.seq[qid] || 0) + 1;
    state.unsaved[qid] = true;
  }

  function enqueue(qid) {
    clearTimeout(state.timers[qid]);
    delete state.timers[qid];
    if (state.blocked[qid]) delete state.blocked[qid];
    if (state.queue.indexOf(qid) < 0) state.queue.push(qid);
    setTimeout(pump, 0);  // after other change handlers (exclusive options) have run
  }

  function requeueFront(qid) {
    if (state.queue.indexOf(qid) < 0) state.queue.unshift(qid);
  }

  function nextQuestion() {
    for (var i = 0; i < state.queue.length; i++) {
      if (!state.blocked[state.queue[i]]) return state.queue[i];
    }
    return null;
  }

  function pump() {
    if (state.paused) settleWaiters();  // whoever waits (a link, the submit) is told "no"
    if (state.busy || state.paused) return;
    var qid = nextQuestion();
    if (qid === null) {
      settleWaiters();
      return;
    }
    send(qid);
  }

  function settleWaiters() {
    if (hasPending() && !state.paused) return;
    var ok = !state.paused && !Object.keys(state.blocked).some(function (q) {
      return state.blocked[q] === "conflict";
    });
    var waiters = state.waiters;
    state.waiters = [];
    waiters.forEach(function (resolve) { resolve(ok); });
  }

  function whenSettled() {
    Object.keys(state.timers).forEach(enqueue);
    return new Promise(function (resolve) {
      state.waiters.push(resolve);
      setTimeout(pump, 0);
    });
  }

  function pause(kind, status) {
    state.paused = kind;
    showFailure(kind, status);
    settleWaiters();
    clearTimeout(state.retryTimer);
    if (kind === "offline" || kind === "error") {
      state.retryTimer = setTimeout(function () { retry(false); }, RETRY_MS);
    }
  }

  function body(qid, base) {
    var params = new URLSearchParams();
    params.append("question", qid);
    params.append("version", String(base));
    params.append("seen", String(state.version));
    fields(qid).forEach(function (el) {
      if (el.disabled) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      params.append(el.name, el.value);
    });
    return params;
  }

  function headers() {
    return { "HX-Request": "true", "X-CSRF-Token": csrfToken(), "Accept": "text/html" };
  }

  function send(qid) {
    state.busy = true;
    state.queue.splice(state.queue.indexOf(qid), 1);
    var sentSeq = state.seq[qid];
    var base = qid in state.base ? state.base[qid] : state.version;
    var sent = { qid: qid, seen: state.version };
    setStatus("Enregistrement en cours…", "");
    fetch(SAVE_URL, {
      method: "POST",
      body: body(qid, base),
      headers: headers(),
      credentials: "same-origin",
      keepalive: true
    }).then(function (response) {
      return response.text().then(function (html) { return { r: response, html: html }; });
    }).then(function (res) {
      handle(qid, sentSeq, sent, res.r, res.html);
    }, function () {
      requeueFront(qid);
      state.busy = false;
      pause("offline");
    });
  }

  function handle(qid, sentSeq, sent, response, html) {
    var status = response.status;
    var outcome = response.headers.get("X-Palier-Outcome");
    var version = parseInt(response.headers.get("X-Palier-Version") || "", 10);
    state.busy = false;
    if (status === 200 && outcome === "saved") {
      state.csrfRetried = false;
      if (!isNaN(version)) state.version = version;
      delete state.base[qid];
      apply(html, sent);
      state.version = readVersion() || state.version;
      clearError(qid);
      removeAlert("autosave-conflict-" + qid);
      if (state.seq[qid] === sentSeq) markSaved(qid);
      if (!state.paused) showRecovered();
    } else if (status === 409 && outcome === "conflict") {
      state.blocked[qid] = "conflict";
      apply(html, null);
      markFailed();
    } else if (status === 409 && outcome === "closed") {
      requeueFront(qid);
      state.paused = "closed";
      apply(html, null);
      markFailed();
      settleWaiters();
      return;
    } else if (status === 422 && outcome === "invalid") {
      if (state.seq[qid] === sentSeq) {
        state.blocked[qid] = "invalid";
        apply(html, null);
      }
    } else if (status === 401) {
      requeueFront(qid);
      pause("auth", 401);
      return;
    } else if (status === 403 && !state.csrfRetried) {
      // Logged in again elsewhere: this page's CSRF token belongs to the old session; or
      // logged out elsewhere: then the fresh copy of the page is the login page.
      state.csrfRetried = true;
      requeueFront(qid);
      state.busy = true;
      refreshCsrf().then(function (result) {
        state.busy = false;
        if (result === "login") pause("auth", 401);
        else pump();
      });
      return;
    } else if (status === 403) {
      requeueFront(qid);
      pause("forbidden", 403);
      return;
    } else {
      requeueFront(qid);
      pause("error", status);
      return;
    }
    pump();
  }

  /* The CSRF token of the current session, read from a fresh copy of this page:
   * "ok" (token updated), "login" (no session: the copy is the login page) or "fail". */
  function refreshCsrf() {
    return fetch(location.pathname + location.search, {
      credentials: "same-origin", headers: { "Accept": "text/html" }
    }).then(function (r) {
      if (r.redirected && new URL(r.url).pathname === "/connexion") return "login";
      if (!r.ok) return "fail";
      return r.text().then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var input = doc.querySelector('#section-form input[name="csrf_token"]');
        if (!input || !input.value) return "fail";
        document.querySelectorAll('input[name="csrf_token"]').forEach(function (el) {
          el.value = input.value;
        });
        var hx = doc.body && doc.body.getAttribute("hx-headers");
        if (hx) document.body.setAttribute("hx-headers", hx);
        return "ok";
      });
    }).catch(function () { return "fail"; });
  }

  function retry(refresh) {
    clearTimeout(state.retryTimer);
    if (state.busy) return;
    var go = function () {
      state.paused = null;
      state.csrfRetried = false;
      setStatus("Nouvel essai d’enregistrement…", "");
      pump();
    };
    if (!refresh) {
      go();
      return;
    }
    refreshCsrf().then(function (result) {
      if (result === "login") {
        showFailure("auth", 401);  // still logged out: say so again
        return;
      }
      go();
    });
  }

  /* ---- conflict choices --------------------------------------------------------------- */

  function keepTheirs(qid, btn) {
    if (btn) btn.disabled = true;
    fetch(QUESTION_URL + encodeURIComponent(qid), {
      headers: headers(), credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) {
        if (btn) btn.disabled = false;
        showFailure(response.status === 401 ? "auth" : "error", response.status);
        return null;
      }
      var version = parseInt(response.headers.get("X-Palier-Version") || "", 10);
      return response.text().then(function (html) {
        forget(qid);
        if (!isNaN(version)) state.base[qid] = version;
        apply(html, null);
        var first = wrapper(qid) && wrapper(qid).querySelector("input, select, textarea");
        if (first) first.focus();
        setStatus("Valeur enregistrée conservée pour « " + labelOf(qid) + " »", "saved");
      });
    }).catch(function () {
      if (btn) btn.disabled = false;
      showFailure("offline");
    });
  }

  function reapply(qid, version) {
    removeAlert("autosave-conflict-" + qid);
    if (!isNaN(version)) state.base[qid] = version;
    delete state.blocked[qid];
    touch(qid);
    enqueue(qid);
    var first = wrapper(qid) && wrapper(qid).querySelector("input, select, textarea");
    if (first) first.focus();
  }

  /* ---- events ------------------------------------------------------------------------- */

  document.addEventListener("input", function (event) {
    var el = event.target;
    var qid = questionOf(el);
    if (qid === null || !isTextual(el)) return;
    touch(qid);
    clearTimeout(state.timers[qid]);
    state.timers[qid] = setTimeout(function () { enqueue(qid); }, DEBOUNCE_MS);
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    var qid = questionOf(el);
    if (qid === null) return;
    if (!isTextual(el)) touch(qid);
    else if (!state.unsaved[qid] && !state.timers[qid]) return;  // nothing new since save
    enqueue(qid);
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var action = target && target.closest("[data-autosave-action]");
    if (action) {
      var kind = action.getAttribute("data-autosave-action");
      var qid = action.getAttribute("data-question");
      if (kind === "retry") retry(state.paused === "auth" || state.paused === "forbidden");
      else if (kind === "keep") keepTheirs(qid, action);
      else if (kind === "reapply") reapply(qid, parseInt(action.getAttribute("data-version"), 10));
      else if (kind === "dismiss") removeAlert("autosave-failure");
      return;
    }
    // Leaving by a link: save what is pending first.
    var link = target && target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey ||
        event.ctrlKey || event.shiftKey || event.altKey || link.target === "_blank" ||
        link.hasAttribute("download") || link.origin !== location.origin ||
        link.getAttribute("href").charAt(0) === "#") return;
    if (!hasUnsaved() || state.paused === "closed") return;  // closed: nothing can be saved
    event.preventDefault();
    whenSettled().then(function (ok) {
      if (ok && !hasUnsaved()) location.href = link.href;
      else focusFirstAlert();
    });
  });

  function focusFirstAlert() {
    var first = alertsArea() && alertsArea().querySelector("[role=alert]");
    if (first) first.focus();
  }

  form.addEventListener("submit", function (event) {
    if (state.submitting) return;
    if (!hasPending() && !state.paused && !Object.keys(state.blocked).some(function (q) {
      return state.blocked[q] === "conflict";
    })) {
      state.submitting = true;
      return;
    }
    event.preventDefault();
    whenSettled().then(function (ok) {
      if (ok) {
        state.submitting = true;
        form.submit();
      } else {
        focusFirstAlert();
      }
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (state.submitting || !hasUnsaved() || state.paused === "closed") return;
    event.preventDefault();
    event.returnValue = "";
  });

  window.addEventListener("online", function () {
    if (state.paused === "offline" || state.paused === "error") retry(false);
  });
})();
